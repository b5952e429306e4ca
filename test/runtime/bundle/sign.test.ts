import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { canonicalJson, generateKeyPair, keyIdOf, loadPrivateKey, loadTrustStore } from '../../../src/runtime/bundle/index.js';
import { isEdgeError } from '../../../src/errors.js';
import { tmpDir } from '../../helpers/tmp.js';

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { return isEdgeError(e) ? e.code : `not an EdgeError: ${String(e)}`; }
  return 'no error';
}

t.test('canonicalJson is independent of key order and whitespace', async (t) => {
  const a = { b: 1, a: [3, { z: true, y: null }], c: 'é"\n', d: { y: 2.5, x: -0 } };
  const b = JSON.parse(` { "d": {"x": 0, "y": 2.50}, "c": "é\\"\\n", "a": [3, {"y": null, "z": true}], "b": 1 } `);
  t.equal(canonicalJson(a), canonicalJson(b));
  t.equal(canonicalJson(a), '{"a":[3,{"y":null,"z":true}],"b":1,"c":"é\\"\\n","d":{"x":0,"y":2.5}}');
  t.equal(canonicalJson({ x: undefined, y: [undefined, 1e21, 1e-7] }), '{"y":[null,1e+21,1e-7]}', 'as JSON.stringify treats them');
  const m = { k: [1, { u: undefined }], n: 0.1 + 0.2 };
  t.equal(canonicalJson(m), canonicalJson(JSON.parse(JSON.stringify(m))), 'survives a JSON round trip');
  t.equal(canonicalJson('x'), '"x"');
  t.equal(canonicalJson({ '\u00e9': 1, e: 2, Z: 3 }), '{"Z":3,"e":2,"é":1}', 'code-unit order');
});

t.test('canonicalJson refuses numbers JSON cannot carry', async (t) => {
  t.equal(code(() => canonicalJson({ a: [1, NaN] })), 'E_BUNDLE_MANIFEST');
  t.equal(code(() => canonicalJson({ a: Infinity })), 'E_BUNDLE_MANIFEST');
  t.equal(code(() => canonicalJson({ a: 1n })), 'E_BUNDLE_MANIFEST');
});

t.test('key ids and key files', async (t) => {
  const k = generateKeyPair();
  t.match(k.keyId, /^[0-9a-f]{16}$/);
  t.equal(keyIdOf(createPublicKey(k.publicKeyPem)), k.keyId);
  t.match(k.privateKeyPem, /BEGIN PRIVATE KEY/);
  t.match(k.publicKeyPem, /BEGIN PUBLIC KEY/);

  const dir = tmpDir(t);
  writeFileSync(join(dir, 'ops.key'), k.privateKeyPem);
  writeFileSync(join(dir, 'ops.pub'), k.publicKeyPem);
  t.equal(loadPrivateKey(join(dir, 'ops.key')), k.privateKeyPem);
  t.equal(code(() => loadPrivateKey(join(dir, 'ops.pub'))), 'E_KEY_FORMAT', 'a public key is not a signing key');
  t.equal(code(() => loadPrivateKey(join(dir, 'missing.key'))), 'E_KEY_READ');

  const trust = join(dir, 'trusted');
  mkdirSync(trust);
  writeFileSync(join(trust, 'ops.pub'), k.publicKeyPem);
  writeFileSync(join(trust, 'README'), 'not a key, ignored');
  const store = loadTrustStore(trust);
  t.same([...store.keys.keys()], [k.keyId]);
  t.equal(loadTrustStore([join(dir, 'ops.pub')]).keys.size, 1, 'a list of files');
  t.equal(code(() => loadTrustStore(join(dir, 'nowhere'))), 'E_TRUST_STORE');
  t.equal(loadTrustStore(tmpDir(t)).keys.size, 0, 'an empty store loads (and trusts nothing)');

  writeFileSync(join(trust, 'oops.pub'), k.privateKeyPem);
  t.equal(code(() => loadTrustStore(trust)), 'E_KEY_FORMAT', 'a private key in the trust store is refused');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(join(trust, 'oops.pub'), rsa);
  t.equal(code(() => loadTrustStore(trust)), 'E_KEY_FORMAT', 'only ed25519');
  writeFileSync(join(trust, 'oops.pub'), 'garbage');
  t.equal(code(() => loadTrustStore(trust)), 'E_KEY_FORMAT');
});
