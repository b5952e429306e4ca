/**
 * ed25519 keys: the publisher signs bundles with a private key (PKCS8 PEM); devices hold
 * the trusted public keys (SPKI PEM, one `.pub` file each) in a trust store directory.
 * A key is named everywhere by its key id: the first 16 hex chars of sha256 of the raw
 * 32-byte public key, so operators can match an error message to a file.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EdgeError, describeError } from '../../errors.js';

export interface TrustStore {
  keys: Map<string /* key_id */, KeyObject>;
  /** Where the keys came from (a directory or file list), for error messages. */
  source?: string;
  /** The file each key was read from, by key id. */
  files?: Map<string, string>;
}

/** key id of an ed25519 public (or private) key: first 16 hex chars of sha256(raw 32-byte key). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  if (pub.asymmetricKeyType !== 'ed25519' || typeof jwk.x !== 'string') {
    throw new EdgeError('E_KEY_FORMAT', `the key is ${pub.asymmetricKeyType ?? 'not asymmetric'}, but bundles are signed with ed25519 keys; make one with \`edgereward keys generate\``);
  }
  const raw = Buffer.from(jwk.x, 'base64url');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

export function generateKeyPair(): { keyId: string; publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new EdgeError('E_KEY_READ', `cannot read ${what} ${path} (${describeError(e)}); check the path and its permissions`, { cause: e });
  }
}

/** Parse a public key file (SPKI PEM); refuses private keys, which never belong on a device. */
export function parsePublicKey(pem: string, path: string): KeyObject {
  if (/PRIVATE KEY/.test(pem)) {
    throw new EdgeError('E_KEY_FORMAT', `${path} holds a PRIVATE key; a trust store holds only public keys (.pub) — remove it from the device and keep it with the publisher`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new EdgeError('E_KEY_FORMAT', `${path} is not a PEM public key (${describeError(e)}); expected the .pub file written by \`edgereward keys generate\``, { cause: e });
  }
  keyIdOf(key); // refuses non-ed25519 keys
  return key;
}

/**
 * Load trusted public keys from a directory (every `*.pub` in it) or from a list of files
 * (each a `.pub` file or a directory). Throws `E_TRUST_STORE` when a path does not exist.
 */
export function loadTrustStore(dirOrFiles: string | string[]): TrustStore {
  const paths = typeof dirOrFiles === 'string' ? [dirOrFiles] : dirOrFiles;
  const keys = new Map<string, KeyObject>();
  const files = new Map<string, string>();
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      throw new EdgeError('E_TRUST_STORE', `trust store ${p} does not exist or cannot be read (${describeError(e)}); create it and copy the publisher's .pub files into it`, { cause: e });
    }
    const list = isDir ? readdirSync(p).filter((f) => f.endsWith('.pub')).sort().map((f) => join(p, f)) : [p];
    for (const f of list) {
      const key = parsePublicKey(readText(f, 'public key'), f);
      const id = keyIdOf(key);
      keys.set(id, key);
      files.set(id, resolve(f));
    }
  }
  return { keys, files, source: paths.join(', ') };
}

/** Read a private key file (PKCS8 PEM) and check it is an ed25519 signing key; returns the PEM. */
export function loadPrivateKey(path: string): string {
  const pem = readText(path, 'private key');
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    const hint = /PUBLIC KEY/.test(pem) ? ' — this is a public key; sign with the matching .key file' : '';
    throw new EdgeError('E_KEY_FORMAT', `${path} is not a PEM private key (${describeError(e)})${hint}`, { cause: e });
  }
  keyIdOf(key);
  return pem;
}
