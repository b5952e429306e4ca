/**
 * The model store: pointers, pruning, blocking, crash-loop rollback at boot, and a writer
 * SIGKILLed in the middle of persisting (the store stays readable, boot picks a good model).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir } from '../../helpers/tmp.js';
import { tinyMlp, tinyPart } from '../../helpers/models.js';
import { createBundle } from '../../../src/runtime/bundle/create.js';
import { generateKeyPair, loadTrustStore } from '../../../src/runtime/bundle/keys.js';
import { openBundleBytes } from '../../../src/runtime/bundle/create.js';
import { ModelStore } from '../../../src/runtime/store/ModelStore.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const kp = generateKeyPair();

function bundle(version: string, pad = 0): { bytes: Uint8Array; info: { name: string; version: string; sha256: string } } {
  const extras = pad ? new Map([['pad.bin', new Uint8Array(pad).fill(3)]]) : undefined;
  const bytes = createBundle({ model: tinyMlp(), manifest: { ...tinyPart(), version }, privateKeyPem: kp.privateKeyPem, ...(extras ? { extras } : {}) });
  return { bytes, info: { name: 'nav', version, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

function run(args: string[], onLine?: (line: string, kill: () => void) => void): Promise<{ out: string; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEREWARD_LOG_LEVEL: 'silent' } });
    let out = '';
    let err = '';
    let buf = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        onLine?.(line, () => p.kill('SIGKILL'));
      }
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', reject);
    p.on('exit', (code, signal) => (code === 0 || signal ? resolve({ out, signal }) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

t.test('pointers, last-known-good, blocking, pruning', async (t) => {
  const s = ModelStore.open(tmpDir(t));
  const [a, b, c, d] = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'].map((v) => bundle(v));
  const ea = await s.put(a!.bytes, a!.info);
  await s.activate(ea);
  await s.confirm();
  const eb = await s.put(b!.bytes, b!.info);
  await s.activate(eb);
  t.equal(s.state.lastKnownGood?.id, 'nav@1.0.0', 'the confirmed model becomes last-known-good');
  t.equal(s.state.confirmed, false);
  const ec = await s.put(c!.bytes, c!.info);
  await s.activate(ec);
  t.equal(s.state.lastKnownGood?.id, 'nav@1.0.0', 'an unconfirmed model never becomes last-known-good');
  const to = await s.rollback('test');
  t.equal(to?.id, 'nav@1.0.0');
  t.ok(s.isBlocked(c!.info.sha256), 'the rolled-back model is blocked');
  await s.put(d!.bytes, d!.info);
  const pruned = await s.prune(2);
  t.same(pruned.sort(), ['nav@1.1.0', 'nav@1.2.0'], 'old versions pruned, the newest kept');
  t.equal(readdirSync(join(s.dir, 'versions')).length, 2);
  const again = ModelStore.open(s.dir);
  t.same(again.state, s.state, 'state survives reopening');
});

t.test('SIGKILL in the middle of persisting: the store stays readable and boot picks a good model', async (t) => {
  const dir = tmpDir(t);
  const files = ['2.0.0', '2.1.0', '2.2.0'].map((v, i) => {
    const p = join(dir, `${v}.erwb`);
    writeFileSync(p, bundle(v, 300_000 + i * 1000).bytes);
    return p;
  });
  const store = join(dir, 'store');
  const trust = loadTrustStore([]);
  trust.keys.set(kp.keyId, (await import('node:crypto')).createPublicKey(kp.publicKeyPem));
  for (let round = 0; round < 2; round++) {
    const target = 3 + round * 2;
    const r = await run(['write', store, ...files], (line, kill) => {
      const n = Number(line.split(' ')[1]);
      // Kill at a varying point after the target iteration: usually mid-write of the next one.
      if (n === target) setTimeout(kill, round * 4);
    });
    t.equal(r.signal, 'SIGKILL', `round ${round}: the writer was killed`);
    const s = ModelStore.open(store);
    t.ok(s.state.active, 'state.json is valid and names an active model');
    t.notOk(readdirSync(join(store, 'versions')).some((f) => f.endsWith('.tmp')), 'no temp files after reopening');
    const choice = s.bootSync(3);
    t.ok(choice.entry, 'boot picks a model');
    const bytes = readFileSync(s.pathOf(choice.entry!));
    t.doesNotThrow(() => openBundleBytes(bytes, trust), `round ${round}: the chosen model ${choice.entry!.id} verifies`);
    for (const e of [s.state.active, s.state.lastKnownGood]) if (e) t.ok(existsSync(s.pathOf(e)), `${e.id}: its file exists`);
  }
});

t.test('crash loop after a swap: the boot counter rolls back to the last-known-good', async (t) => {
  const dir = tmpDir(t);
  const trustDir = join(dir, 'trust');
  mkdirSync(trustDir);
  writeFileSync(join(trustDir, 'k.pub'), kp.publicKeyPem);
  const s = ModelStore.open(join(dir, 'store'));
  const a = bundle('1.0.0');
  const b = bundle('2.0.0');
  await s.activate(await s.put(a.bytes, a.info));
  await s.confirm();
  await s.activate(await s.put(b.bytes, b.info)); // swapped, not yet confirmed
  const seen: Array<{ model: string; events: Array<{ event: string; code: string; to: string }>; boots: number }> = [];
  for (let i = 0; i < 3; i++) {
    const r = await run(['boot', s.dir, trustDir, '2']);
    t.equal(r.signal, 'SIGKILL', `start ${i + 1} crashed`);
    seen.push(JSON.parse(r.out.trim()) as (typeof seen)[number]);
  }
  t.same(seen.slice(0, 2).map((x) => x.model), ['nav@2.0.0', 'nav@2.0.0'], 'the new model is tried maxBoots times');
  t.equal(seen[2]!.model, 'nav@1.0.0', 'then the last-known-good is loaded');
  t.match(seen[2]!.events[0], { event: 'rolled_back', code: 'E_HOST_CRASH_LOOP', to: 'nav@1.0.0' }, 'and the rollback is reported');
  const after = ModelStore.open(s.dir);
  t.equal(after.state.active?.id, 'nav@1.0.0');
  t.ok(after.isBlocked(b.info.sha256), 'the crashing model is blocked');
});
