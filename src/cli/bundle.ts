/**
 * `edgereward bundle create|verify`: package an ONNX model with its manifest into one
 * signed file, and check a bundle the way a device will before loading it.
 */
import type { Command } from 'commander';
import { collect } from './common.js';

const DEFAULT_TRUST = '/etc/edgereward/trusted';

export function register(program: Command): void {
  const bundle = program.command('bundle').description('signed model bundles: create and verify');

  bundle
    .command('create')
    .description('package an ONNX model, its manifest (without "files"; "model" is read from the graph when absent) and extras into a signed bundle')
    .requiredOption('--model <file>', 'the ONNX model')
    .requiredOption('--manifest <file>', 'manifest JSON without "files"')
    .requiredOption('--key <file>', 'ed25519 private key (.key from `edgereward keys generate`)')
    .requiredOption('--out <file>', 'bundle file to write')
    .option('--extra <name=path>', 'an extra file to include (repeatable)', collect, [] as string[])
    .action(async (o: { model: string; manifest: string; key: string; out: string; extra: string[] }) => {
      const { readFileSync } = await import('node:fs');
      const { basename } = await import('node:path');
      const { EdgeError, describeError } = await import('../errors.js');
      const { createBundle, decodeBundle, loadPrivateKey, modelId } = await import('../runtime/bundle/index.js');
      const { writeFileAtomicSync } = await import('../runtime/store/atomic.js');
      const read = (path: string, what: string): Buffer => {
        try {
          return readFileSync(path);
        } catch (e) {
          throw new EdgeError('E_CLI_READ', `cannot read ${what} ${path} (${describeError(e)})`, { cause: e });
        }
      };
      let part: unknown;
      try {
        part = JSON.parse(read(o.manifest, 'manifest').toString('utf8'));
      } catch (e) {
        if (e instanceof EdgeError) throw e;
        throw new EdgeError('E_BUNDLE_MANIFEST', `${o.manifest} is not JSON (${describeError(e)}); fix its syntax`, { cause: e });
      }
      const extras = new Map<string, Uint8Array>();
      for (const x of o.extra) {
        const eq = x.indexOf('=');
        const name = eq > 0 ? x.slice(0, eq) : basename(x);
        const path = eq > 0 ? x.slice(eq + 1) : x;
        if (extras.has(name)) throw new EdgeError('E_CLI_ARG', `--extra names "${name}" twice; give each extra a unique name (name=path)`);
        extras.set(name, read(path, 'extra file'));
      }
      const bytes = createBundle({
        model: read(o.model, 'model'),
        manifest: part as Parameters<typeof createBundle>[0]['manifest'],
        extras,
        privateKeyPem: loadPrivateKey(o.key),
      });
      writeFileAtomicSync(o.out, bytes);
      const b = decodeBundle(bytes, o.out);
      process.stdout.write(`wrote ${o.out}: ${modelId(b.manifest)}, ${b.manifest.files.length} file(s), ${bytes.length} bytes, signed by key ${b.signature.key_id}\n`);
    });

  bundle
    .command('verify')
    .description('check a bundle as a device does: structure, sha256 of every file, signature by a trusted key, runtime version')
    .argument('<file>', 'the bundle')
    .option('--trust <path>', `trust store: a directory of .pub files, or one .pub file (repeatable; default ${DEFAULT_TRUST})`, collect, [] as string[])
    .option('--json', 'machine-readable output', false)
    .action(async (file: string, o: { trust: string[]; json: boolean }) => {
      const { isEdgeError } = await import('../errors.js');
      const { loadTrustStore, modelId, openBundle } = await import('../runtime/bundle/index.js');
      const { RUNTIME_VERSION } = await import('../version.js');
      const trustPaths = o.trust.length ? o.trust : [DEFAULT_TRUST];
      try {
        const trust = loadTrustStore(trustPaths);
        const b = openBundle(file, trust);
        const m = b.manifest;
        const keyFile = trust.files?.get(b.signature.key_id);
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ok: true, id: modelId(m), key_id: b.signature.key_id, key_file: keyFile, min_runtime: m.min_runtime, runtime: RUNTIME_VERSION, size: b.size, files: m.files })}\n`);
          return;
        }
        const w = Math.max(...m.files.map((f) => f.name.length));
        const sw = Math.max(...m.files.map((f) => String(f.size).length));
        const files = m.files.map((f, i) => `${i === 0 ? 'files' : ''}`.padEnd(13) + `${f.name.padEnd(w)}  ${f.role.padEnd(5)}  ${String(f.size).padStart(sw)} B  sha256 ${f.sha256.slice(0, 16)}…`);
        process.stdout.write([
          `OK ${modelId(m)}`,
          `${'key'.padEnd(13)}${b.signature.key_id} (trusted: ${keyFile ?? trustPaths.join(', ')})`,
          ...files,
          `${'min_runtime'.padEnd(13)}${m.min_runtime} (this runtime ${RUNTIME_VERSION})`,
          '',
        ].join('\n'));
      } catch (e) {
        if (o.json && isEdgeError(e)) process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, message: e.message })}\n`);
        throw e;
      }
    });
}
