/** A signed test bundle (tiny MLP: odom.v, goal.dx, action v, w) and its trust dir, in a temp dir. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBundle } from '../../src/runtime/bundle/create.js';
import { generateKeyPair } from '../../src/runtime/bundle/keys.js';
import { buildMlpModel } from '../../src/compress/onnx/build.js';
import { tinyMlp, tinyPart, weights } from '../helpers/models.js';
import { tmpDir } from '../helpers/tmp.js';

export interface TestBundle {
  dir: string;
  bundle: string;
  trust: string;
}

interface T {
  teardown(fn: () => void): void;
}

/** `nan`: a model whose output is NaN for every input (a NaN bias), for the safety test. */
export function makeTestBundle(t: T, o: { nan?: boolean; name?: string } = {}): TestBundle {
  const dir = tmpDir(t, 'edgereward-agent-');
  const keys = generateKeyPair();
  const trust = join(dir, 'trusted');
  mkdirSync(trust);
  writeFileSync(join(trust, `${keys.keyId}.pub`), keys.publicKeyPem);
  const model = o.nan
    ? buildMlpModel({
        inputName: 'x',
        outputName: 'reward',
        layers: [{ weight: weights(4, 1), bias: new Float32Array([NaN]), inDim: 4, outDim: 1, activation: 'none' }],
      })
    : tinyMlp();
  const bytes = createBundle({ model, manifest: { ...tinyPart(), ...(o.name ? { name: o.name } : {}) }, privateKeyPem: keys.privateKeyPem });
  const bundle = join(dir, 'test.bundle');
  writeFileSync(bundle, bytes);
  return { dir, bundle, trust };
}
