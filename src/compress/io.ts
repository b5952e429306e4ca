/**
 * Inputs and outputs of the compress commands: a plain ONNX file, or a bundle (then the output is
 * a bundle whose manifest records the step in `provenance.steps`, re-signed with the given key).
 */
import { readFileSync } from 'node:fs';
import { EdgeError } from '../errors.js';
import { createBundle, decodeBundle, isBundleBytes, loadPrivateKey, modelBytes, type Bundle } from '../runtime/bundle/index.js';
import { writeFileAtomicSync } from '../runtime/store/atomic.js';
import type { CompressReport } from './report.js';

export interface CompressInput {
  path: string;
  model: Uint8Array;
  bundle?: Bundle;
}

export function readCompressInput(path: string): CompressInput {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EdgeError('E_COMPRESS_INPUT', `cannot read ${path}; check the path`, { cause: e });
  }
  if (isBundleBytes(bytes)) {
    const bundle = decodeBundle(bytes, path);
    return { path, model: modelBytes(bundle), bundle };
  }
  return { path, model: bytes };
}

/** A step as recorded in a bundle's provenance (the report without per-node detail). */
export function provenanceStep(r: CompressReport): Record<string, unknown> {
  return {
    step: r.step,
    mode: r.mode,
    options: r.options,
    at: new Date().toISOString(),
    bytes_in: r.bytes_in,
    bytes_out: r.bytes_out,
    size_ratio: r.size_ratio,
    sparsity: r.sparsity,
    int8_share: r.int8_share,
    int4_share: r.int4_share,
    latency_ratio_b1: r.latency_ratio_b1,
    latency_ratio_b64: r.latency_ratio_b64,
    fidelity_data: r.fidelity_data,
    spearman: r.spearman,
    top1_agreement: r.top1_agreement,
    max_abs_err: r.max_abs_err,
    skipped_nodes: r.skipped_nodes.map((s) => s.node),
  };
}

/**
 * Write the result: plain ONNX for a plain input; for a bundle input, a new signed bundle with
 * the same manifest (feature map, actions, output), the step appended to provenance.steps.
 */
export function writeCompressOutput(out: string, input: CompressInput, model: Uint8Array, report: CompressReport, keyPath?: string): void {
  if (!input.bundle) {
    writeFileAtomicSync(out, model);
    return;
  }
  if (!keyPath) {
    throw new EdgeError('E_COMPRESS_KEY', `${input.path} is a bundle: its compressed copy must be re-signed; pass --key <private key .pem>`);
  }
  const m = input.bundle.manifest;
  const modelEntry = m.files.find((f) => f.role === 'model');
  const extras = new Map<string, Uint8Array>();
  for (const f of m.files) if (f.role !== 'model') extras.set(f.name, input.bundle.files.get(f.name)!);
  const prov = { ...(m.provenance ?? {}) } as Record<string, unknown>;
  const steps = Array.isArray(prov.steps) ? [...(prov.steps as unknown[])] : [];
  steps.push(provenanceStep(report));
  prov.steps = steps;
  const { files: _files, ...rest } = m;
  void _files;
  const bytes = createBundle({
    model,
    manifest: { ...rest, provenance: prov },
    extras,
    privateKeyPem: loadPrivateKey(keyPath),
    ...(modelEntry ? { modelFileName: modelEntry.name } : {}),
  });
  writeFileAtomicSync(out, bytes);
}
