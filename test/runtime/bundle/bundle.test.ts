import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createBundle, buildManifest, decodeBundle, encodeBundle, generateKeyPair, isBundleBytes, loadTrustStore,
  modelBytes, openBundle, openBundleBytes, readBundle, signManifest, verifySignature, checkRuntime,
  MAX_HEADER_BYTES, type Bundle,
} from '../../../src/runtime/bundle/index.js';
import { isEdgeError } from '../../../src/errors.js';
import { tmpDir } from '../../helpers/tmp.js';
import { tinyMlp, tinyPart } from '../../helpers/models.js';

const publisher = generateKeyPair();
const stranger = generateKeyPair();

function trustDir(t: { teardown(fn: () => void): void }, ...pems: string[]): string {
  const dir = tmpDir(t);
  pems.forEach((p, i) => writeFileSync(join(dir, `k${i}.pub`), p));
  return dir;
}

function make(extras?: Map<string, Uint8Array>): { bytes: Uint8Array; model: Uint8Array } {
  const model = tinyMlp();
  return { bytes: createBundle({ model, manifest: tinyPart(), privateKeyPem: publisher.privateKeyPem, ...(extras ? { extras } : {}) }), model };
}

/** Rewrite a bundle's header (keeping its files) after `edit`; the signature is not redone. */
function withHeader(bytes: Uint8Array, edit: (h: { manifest: Record<string, unknown>; signature: Record<string, unknown> }) => void): Uint8Array {
  const b = Buffer.from(bytes);
  const len = b.readUInt32LE(8);
  const h = JSON.parse(b.subarray(12, 12 + len).toString('utf8'));
  edit(h);
  const nh = Buffer.from(JSON.stringify(h));
  const pre = Buffer.alloc(12);
  b.copy(pre, 0, 0, 12);
  pre.writeUInt32LE(nh.length, 8);
  return Buffer.concat([pre, nh, b.subarray(12 + len)]);
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isEdgeError(e) ? e.code : `not an EdgeError: ${String(e)}`;
  }
  return 'no error';
}

t.test('round trip: create, decode, verify, model bytes back', async (t) => {
  const extras = new Map([['calibration.json', Buffer.from('{"mean":[0,0,0,0]}')]]);
  const { bytes, model } = make(extras);
  t.ok(isBundleBytes(bytes));
  t.notOk(isBundleBytes(model));
  const b = decodeBundle(bytes, 'mem');
  t.equal(b.manifest.name, 'nav');
  t.equal(b.size, bytes.length);
  t.same(b.manifest.files.map((f) => [f.name, f.role, f.size]), [['model.onnx', 'model', model.length], ['calibration.json', 'extra', 18]]);
  t.same(Buffer.from(modelBytes(b)), Buffer.from(model));
  t.equal(Buffer.from(b.files.get('calibration.json')!).toString(), '{"mean":[0,0,0,0]}');
  // the model section was read from the graph, with the dynamic batch axis as a string
  t.same(b.manifest.model, { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }], outputs: [{ name: 'reward', dtype: 'float32', shape: ['batch', 1] }] });
  t.equal(b.manifest.format, 1);
  t.equal(b.signature.key_id, publisher.keyId);
  const trust = loadTrustStore(trustDir(t, publisher.publicKeyPem, stranger.publicKeyPem));
  t.equal(trust.keys.size, 2);
  t.doesNotThrow(() => verifySignature(b, trust));
  t.doesNotThrow(() => openBundleBytes(bytes, trust, 'mem'));
  const dir = tmpDir(t);
  writeFileSync(join(dir, 'nav.erwb'), bytes);
  t.equal(openBundle(join(dir, 'nav.erwb'), trust).manifest.version, '1.4.0');
  t.equal(readBundle(join(dir, 'nav.erwb')).size, bytes.length);
  // encode(decode(x)) is byte-identical
  t.same(Buffer.from(encodeBundle(b.manifest, b.signature, b.files)), Buffer.from(bytes));
});

t.test('refusals carry their code', async (t) => {
  const { bytes } = make();
  const trust = loadTrustStore(trustDir(t, publisher.publicKeyPem));

  t.test('untrusted key', async (t) => {
    const other = loadTrustStore(trustDir(t, stranger.publicKeyPem));
    t.equal(code(() => openBundleBytes(bytes, other)), 'E_BUNDLE_UNTRUSTED');
    try { openBundleBytes(bytes, other); } catch (e) {
      t.match((e as Error).message, new RegExp(`nav@1\\.4\\.0 is signed by key ${publisher.keyId}, which is not in the trust store`));
    }
    t.equal(code(() => openBundleBytes(bytes, { keys: new Map() })), 'E_BUNDLE_UNTRUSTED');
  });

  t.test('bad signature: manifest edited after signing', async (t) => {
    const edited = withHeader(bytes, (h) => { h.manifest['description'] = 'harmless?'; });
    t.equal(code(() => decodeBundle(edited)), 'no error', 'structure is still fine');
    t.equal(code(() => openBundleBytes(edited, trust)), 'E_BUNDLE_SIGNATURE');
  });

  t.test('bad signature: key id of a trusted key, signature of another', async (t) => {
    const forged = withHeader(bytes, (h) => {
      const m = decodeBundle(bytes).manifest;
      h.signature['sig'] = signManifest(m, stranger.privateKeyPem).sig;
    });
    t.equal(code(() => openBundleBytes(forged, trust)), 'E_BUNDLE_SIGNATURE');
    const short = withHeader(bytes, (h) => { h.signature['sig'] = 'AAAA'; });
    t.equal(code(() => openBundleBytes(short, trust)), 'E_BUNDLE_SIGNATURE');
    const alg = withHeader(bytes, (h) => { h.signature['alg'] = 'rsa'; });
    t.equal(code(() => openBundleBytes(alg, trust)), 'E_BUNDLE_SIGNATURE');
    const junk = withHeader(bytes, (h) => { h.signature['key_id'] = 'nope'; });
    t.equal(code(() => decodeBundle(junk)), 'E_BUNDLE_SIGNATURE');
  });

  t.test('sha256 mismatch: one flipped byte in the model', async (t) => {
    const bad = Buffer.from(bytes);
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 0xff;
    t.equal(code(() => decodeBundle(bad)), 'E_BUNDLE_SHA256');
  });

  t.test('truncated download', async (t) => {
    const cut = bytes.subarray(0, bytes.length - 100);
    t.equal(code(() => decodeBundle(cut)), 'E_BUNDLE_TRUNCATED');
    try { decodeBundle(cut); } catch (e) {
      t.match((e as Error).message, 'nav@1.4.0 is 100 bytes shorter than its manifest says; the download was cut short');
    }
    t.equal(code(() => decodeBundle(bytes.subarray(0, 40))), 'E_BUNDLE_TRUNCATED', 'cut inside the header');
    t.equal(code(() => decodeBundle(bytes.subarray(0, 7))), 'E_BUNDLE_TRUNCATED', 'cut inside the preamble');
  });

  t.test('trailing garbage', async (t) => {
    t.equal(code(() => decodeBundle(Buffer.concat([bytes, Buffer.from('x')]))), 'E_BUNDLE_FORMAT');
  });

  t.test('not a bundle', async (t) => {
    t.equal(code(() => decodeBundle(Buffer.from('hello world, not a bundle'))), 'E_BUNDLE_FORMAT');
    t.equal(code(() => decodeBundle(new Uint8Array(0))), 'E_BUNDLE_FORMAT');
    t.equal(code(() => decodeBundle(tinyMlp())), 'E_BUNDLE_FORMAT');
    const v2 = Buffer.from(bytes);
    v2.writeUInt16LE(2, 4);
    t.equal(code(() => decodeBundle(v2)), 'E_BUNDLE_FORMAT', 'unknown format version');
    const notJson = Buffer.from(bytes);
    notJson[12] = 0x7b + 1; // '|' instead of '{'
    t.equal(code(() => decodeBundle(notJson)), 'E_BUNDLE_FORMAT');
  });

  t.test('hostile header length', async (t) => {
    for (const len of [0, MAX_HEADER_BYTES + 1, 0xffffffff]) {
      const h = Buffer.from(bytes);
      h.writeUInt32LE(len >>> 0, 8);
      t.equal(code(() => decodeBundle(h)), 'E_BUNDLE_FORMAT', `header length ${len}`);
    }
  });

  t.test('hostile file size in the manifest', async (t) => {
    const huge = withHeader(bytes, (h) => { (h.manifest['files'] as Array<{ size: number }>)[0]!.size = 2 ** 40; });
    t.equal(code(() => decodeBundle(huge)), 'E_BUNDLE_TRUNCATED', 'sizes are checked against the real length, nothing is allocated');
  });

  t.test('hostile nesting in the header is refused, not a stack overflow', async (t) => {
    const shallow = withHeader(bytes, (h) => { h.manifest['provenance'] = { x: 'DEEP' }; });
    const len = Buffer.from(shallow).readUInt32LE(8);
    const header = Buffer.from(shallow).subarray(12, 12 + len).toString().replace('"DEEP"', '['.repeat(200000) + ']'.repeat(200000));
    const pre = Buffer.from(shallow.subarray(0, 12));
    pre.writeUInt32LE(Buffer.byteLength(header), 8);
    const deep = Buffer.concat([pre, Buffer.from(header), shallow.subarray(12 + len)]);
    t.equal(code(() => decodeBundle(deep)), 'E_BUNDLE_MANIFEST');
  });

  t.test('manifest failing the schema names the field', async (t) => {
    const bad = withHeader(bytes, (h) => { h.manifest['version'] = 'one'; h.manifest['colour'] = 'red'; });
    t.equal(code(() => decodeBundle(bad)), 'E_BUNDLE_MANIFEST');
    try { decodeBundle(bad); } catch (e) {
      t.match((e as Error).message, '/version must match pattern');
      t.match((e as Error).message, 'unknown field "colour"');
    }
    const twoModels = withHeader(bytes, (h) => {
      const f = h.manifest['files'] as Array<Record<string, unknown>>;
      f.push({ ...f[0], name: 'other.onnx', size: 0 });
    });
    t.equal(code(() => decodeBundle(twoModels)), 'E_BUNDLE_MANIFEST');
  });

  t.test('runtime too old', async (t) => {
    const m = { ...decodeBundle(bytes).manifest, min_runtime: '99.0.0' };
    t.equal(code(() => checkRuntime(m)), 'E_BUNDLE_RUNTIME');
    t.equal(code(() => checkRuntime({ ...m, min_runtime: '0.0.9' })), 'no error');
    const newer = createBundle({ model: tinyMlp(), manifest: { ...tinyPart(), min_runtime: '99.0.0' }, privateKeyPem: publisher.privateKeyPem });
    t.equal(code(() => openBundleBytes(newer, trust)), 'E_BUNDLE_RUNTIME');
  });
});

t.test('create refuses what could not run', async (t) => {
  const key = publisher.privateKeyPem;
  t.equal(code(() => createBundle({ model: Buffer.from('definitely not onnx'), manifest: tinyPart(), privateKeyPem: key })), 'E_ONNX_PARSE');
  t.equal(code(() => createBundle({ model: new Uint8Array(0), manifest: tinyPart(), privateKeyPem: key })), 'E_ONNX_PARSE');
  t.equal(code(() => createBundle({ model: tinyMlp(), manifest: { ...tinyPart(), name: 'Bad Name' }, privateKeyPem: key })), 'E_BUNDLE_MANIFEST');

  const wide = tinyMlp({ inDim: 6 });
  try {
    buildManifest({ model: wide, manifest: tinyPart() });
    t.fail('should refuse');
  } catch (e) {
    t.equal((e as { code?: string }).code, 'E_BUNDLE_MANIFEST');
    t.match((e as Error).message, 'gives input "x" 4 columns, but the model\'s input has 6');
  }
  const part = tinyPart();
  part.features[0]!.input = 'obs';
  t.match(String(catchMsg(() => buildManifest({ model: tinyMlp(), manifest: part }))), 'fills input "obs", which the model does not have');
  const act = tinyPart();
  act.features[0]!.columns[3] = { action: 'turbo' };
  t.match(String(catchMsg(() => buildManifest({ model: tinyMlp(), manifest: act }))), /E_BUNDLE_MANIFEST: .*action "turbo"/);
  const out = { ...tinyPart(), output: { name: 'score', meaning: 'x' } };
  t.match(String(catchMsg(() => buildManifest({ model: tinyMlp(), manifest: out }))), '"output.name" is "score"');
  const declared = { ...tinyPart(), model: { inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 5] }], outputs: [{ name: 'reward', dtype: 'float32', shape: ['n', 1] }] } };
  t.match(String(catchMsg(() => buildManifest({ model: tinyMlp(), manifest: declared }))), 'declared float32[n, 5] but the ONNX graph has float32[batch, 4]');
  const ok = { ...tinyPart(), model: { inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 4] }], outputs: [{ name: 'reward', dtype: 'float32', shape: ['n', 1] }] } };
  t.equal(buildManifest({ model: tinyMlp(), manifest: ok }).model.inputs[0]!.shape[0], 'n', 'a declared model section that agrees is kept');
  t.equal(code(() => createBundle({ model: tinyMlp(), manifest: tinyPart(), privateKeyPem: 'not a key' })), 'E_KEY_FORMAT');
});

function catchMsg(fn: () => unknown): string | undefined {
  try { fn(); } catch (e) { return (e as Error).message; }
  return undefined;
}

t.test('bundle type is what the engine reads', async (t) => {
  const b: Bundle = decodeBundle(make().bytes);
  t.type(b.files, Map);
});
