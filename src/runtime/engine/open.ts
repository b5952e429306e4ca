/**
 * Open a model file for the CLI and tools: a bundle (integrity always checked; signature
 * checked when a trust store is given) or a plain .onnx file.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { EdgeError, describeError } from '../../errors.js';
import { decodeBundle, isBundleBytes } from '../bundle/format.js';
import { openBundleBytes } from '../bundle/create.js';
import type { TrustStore } from '../bundle/keys.js';
import { Scorer } from './scorer.js';
import type { EngineOptions } from './session.js';

export interface OpenedModel {
  scorer: Scorer;
  kind: 'bundle' | 'onnx';
  /** True when a bundle's signature was checked against a trust store. */
  verified: boolean;
}

export async function openScorer(path: string, opts: EngineOptions & { trust?: TrustStore } = {}): Promise<OpenedModel> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgeError('E_MODEL_READ', `cannot read ${path} (${describeError(e)}); check the path`, { cause: e });
  }
  const { trust, ...engine } = opts;
  if (isBundleBytes(bytes)) {
    const b = trust ? openBundleBytes(bytes, trust, path) : decodeBundle(bytes, path);
    return { scorer: await Scorer.fromBundle(b, engine), kind: 'bundle', verified: trust !== undefined };
  }
  return { scorer: await Scorer.fromModel(bytes, undefined, { label: basename(path), ...engine }), kind: 'onnx', verified: false };
}
