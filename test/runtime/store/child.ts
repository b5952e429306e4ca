/**
 * Child process for the store tests (not a test itself).
 *   write <store> <bundle>...  : forever: put + activate + confirm + prune, printing "w <n>"
 *   boot <store> <trustDir>    : boot the model host like the daemon does, print the result, crash
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ModelStore } from '../../../src/runtime/store/ModelStore.js';
import { ModelHost } from '../../../src/runtime/host.js';
import { loadTrustStore } from '../../../src/runtime/bundle/keys.js';
import { decodeBundle } from '../../../src/runtime/bundle/format.js';

const [mode, dir, ...rest] = process.argv.slice(2);
if (!mode || !dir) {
  // Run directly by a test runner given the directory: not a test.
  process.stdout.write('1..0 # SKIP child process of store.test.ts\n');
  process.exit(0);
}
const store = ModelStore.open(dir);
if (mode === 'write') {
  const files = rest.map((p) => {
    const bytes = readFileSync(p);
    const m = decodeBundle(bytes).manifest;
    return { bytes, info: { name: m.name, version: m.version, sha256: createHash('sha256').update(bytes).digest('hex') } };
  });
  for (let n = 0; ; n++) {
    const f = files[n % files.length]!;
    const e = await store.put(f.bytes, f.info);
    await store.activate(e);
    await store.confirm();
    await store.prune(2);
    process.stdout.write(`w ${n}\n`);
  }
} else if (mode === 'boot') {
  const host = new ModelHost({ store, trust: loadTrustStore(rest[0]!), deadlineMs: 20, maxBoots: Number(rest[1] ?? 3), watchMs: 0, engine: { warmupRuns: 0 } });
  const events: unknown[] = [];
  host.onEvent = (e) => events.push(e);
  const m = await host.boot();
  process.stdout.write(JSON.stringify({ model: m?.id ?? null, events, boots: store.state.boots }) + '\n');
  process.kill(process.pid, 'SIGKILL'); // the daemon crashes right after loading
}
