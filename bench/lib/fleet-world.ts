/**
 * Shared by bench/swap.ts and bench/fleet.ts: a mosquitto of our own (so its CPU time can be
 * read), a fleet signing key with its trust directory, bundles re-signed from the shipped sample
 * model, synthetic sensor values for a manifest's feature map.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBundle } from '../../src/runtime/bundle/create.js';
import { readBundle, modelBytes } from '../../src/runtime/bundle/format.js';
import { generateKeyPair } from '../../src/runtime/bundle/keys.js';
import type { Manifest } from '../../src/runtime/bundle/manifest.js';
import { mosquittoPath, freePort } from '../../test/helpers/mosquitto.js';

export interface Broker {
  url: string;
  pid: number;
  /** CPU seconds used by the broker so far (user + system, from /proc). */
  cpu(): number;
  stop(): Promise<void>;
}

export async function startBroker(dir: string): Promise<Broker> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 10000', ...(process.getuid?.() === 0 ? ['user root'] : []), 'log_dest stderr', 'log_type error'].join('\n') + '\n');
  const p: ChildProcess = spawn(mosquittoPath(), ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = createConnection({ host: '127.0.0.1', port }).once('connect', () => (c.destroy(), r(true))).once('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const tick = 100; // USER_HZ
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: p.pid!,
    cpu() {
      const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / tick;
    },
    stop: () => new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    }),
  };
}

export function workDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'edgereward-bench-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new fleet signing key, its public key in `<dir>/trust` and an empty `<dir>/bundles` (the fleet server's). */
export function fleetKeys(dir: string): { kp: ReturnType<typeof generateKeyPair>; trustDir: string; bundles: string } {
  const kp = generateKeyPair();
  const trustDir = join(dir, 'trust');
  const bundles = join(dir, 'bundles');
  mkdirSync(trustDir);
  mkdirSync(bundles);
  writeFileSync(join(trustDir, 'k.pub'), kp.publicKeyPem);
  return { kp, trustDir, bundles };
}

/** The shipped sample model re-signed with `privateKeyPem` as `version`, padded to about `targetBytes`. */
export function sampleBundle(privateKeyPem: string, version: string, targetBytes = 0): Uint8Array {
  const b = readBundle(new URL('../../models/sample/sample.bundle', import.meta.url).pathname);
  const model = modelBytes(b);
  const { files: _f, ...part } = b.manifest;
  const base = createBundle({ model, manifest: { ...part, version }, privateKeyPem });
  if (targetBytes <= base.length) return base;
  const pad = new Uint8Array(targetBytes - base.length - 200);
  for (let i = 0; i < pad.length; i++) pad[i] = (i * 2654435761) >>> 24; // incompressible-ish
  return createBundle({ model, manifest: { ...part, version }, privateKeyPem, extras: new Map([['calibration.bin', pad]]) });
}

/** One message per stream with every field the feature map reads (arrays long enough). */
export function syntheticInputs(m: Manifest): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of m.features) {
    for (const c of f.columns) {
      if (!('stream' in c)) continue;
      const msg = (out[c.stream] ??= { t: 0 });
      const len = c.index !== undefined || c.count !== undefined ? (c.index ?? 0) + (c.count ?? 1) : 0;
      if (len > 0) {
        const cur = (msg[c.field] as number[] | undefined) ?? [];
        while (cur.length < len) cur.push(0.5 + ((cur.length * 37) % 100) / 60);
        msg[c.field] = cur;
      } else msg[c.field] ??= 0.7;
    }
  }
  return out;
}
