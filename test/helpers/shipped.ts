/** The model the embedded default (config/default.json) runs, so tests follow the shipped config. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBundle } from '../../src/runtime/bundle/format.js';
import { modelId } from '../../src/runtime/bundle/manifest.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** name@version of the bundle config/default.json runs. */
export function shippedModelId(): string {
  const file = resolve(ROOT, 'config/default.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as { model: { bundle: string } };
  return modelId(readBundle(resolve(dirname(file), cfg.model.bundle)).manifest);
}
