/**
 * `edgereward inspect FILE [--json] [--trust DIR]`: what is inside an ONNX model or a bundle
 * (told apart by the bundle magic) — interface, op mix, size, quantization and sparsity.
 */
import type { Command } from 'commander';
import { collect, trustArg } from './common.js';
import type { Inspection } from '../compress/onnx/inspect.js';
import type { TensorSpec } from '../runtime/bundle/manifest.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** Rows of cells -> lines with each column padded to its widest cell. */
function columns(rows: string[][], indent = ''): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

const tensorRow = (s: TensorSpec): string[] => [s.name, s.dtype, `[${s.shape.join(', ')}]`];

/** The plain, aligned report: a label column, then values; sub-tables indented under their label. */
export function formatInspection(r: Inspection): string {
  const L = 12;
  const out: string[] = [];
  const line = (label: string, value: string): void => { out.push(`${label.padEnd(L)}${value}`); };
  const block = (label: string, rows: string[][]): void => {
    const lines = columns(rows);
    lines.forEach((l, i) => out.push(`${(i === 0 ? label : '').padEnd(L)}${l}`));
  };
  const m = r.model;
  line('file', `${r.what} (${r.kind === 'bundle' ? 'bundle' : 'ONNX'}, ${formatBytes(r.size)})`);
  if (r.bundle) {
    const b = r.bundle;
    line('model', b.description ? `${b.id} — ${b.description}` : b.id);
    if (b.created) line('created', b.created);
    line('signed by', `${b.keyId} (${b.signature === 'unchecked' ? 'signature not checked; pass --trust DIR' : b.signature === 'trusted' ? 'signature valid, key trusted' : b.signature})`);
    line('min runtime', b.minRuntime);
    block('files', b.files.map((f) => [f.name, f.role, formatBytes(f.size), `sha256 ${f.sha256.slice(0, 16)}…`]));
    block('features', b.inputs.map((i) => [i.input, `${i.width} columns`, `per ${i.per}`]));
    line('actions', `${b.actions.type} over ${b.actions.names.join(', ')}: ${b.actions.count} candidates`);
    line('output', `${b.output.name} — ${b.output.meaning}`);
    if (b.provenance) line('provenance', JSON.stringify(b.provenance));
    out.push('');
  }
  line('onnx', `IR ${m.irVersion}, opsets ${m.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}${m.producer ? `, producer ${m.producer}` : ''}`);
  block('inputs', m.inputs.map(tensorRow));
  block('outputs', m.outputs.map(tensorRow));
  const top = m.ops[0]?.count ?? 1;
  const cw = String(top).length;
  block(`ops (${m.nodes})`, m.ops.map((o) => [o.op, String(o.count).padStart(cw), '#'.repeat(Math.max(1, Math.round((20 * o.count) / top)))]));
  line('parameters', `${m.parameters.toLocaleString('en-US')} (float ${m.weights.float.toLocaleString('en-US')}, int8 ${m.weights.int8.toLocaleString('en-US')}, int4 ${m.weights.int4.toLocaleString('en-US')})`);
  line('bytes', `file ${formatBytes(m.bytes.file)}, weights ${formatBytes(m.bytes.weights)}${m.external ? ` (+${m.external} external tensors not counted)` : ''}`);
  line('quantized', `int8 ${pct(m.quantized.int8)}, int4 ${pct(m.quantized.int4)} of parameters`);
  line('sparsity', `${pct(m.sparsity.share)} exact zeros in float weights (${m.sparsity.zeros.toLocaleString('en-US')} of ${m.sparsity.of.toLocaleString('en-US')})`);
  return `${out.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show what is inside an ONNX model or a bundle: inputs/outputs, opsets, op histogram, parameters, bytes, quantized share, sparsity')
    .argument('<file>', 'an .onnx model or a bundle')
    .option('--json', 'machine-readable output', false)
    .option('--trust <path>', 'also check a bundle\'s signature against this trust store (repeatable)', collect, [] as string[])
    .action(async (file: string, o: { json: boolean; trust: string[] }) => {
      const { readFileSync } = await import('node:fs');
      const { EdgeError, describeError } = await import('../errors.js');
      const { inspectBytes } = await import('../compress/onnx/inspect.js');
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new EdgeError('E_CLI_READ', `cannot read ${file} (${describeError(e)})`, { cause: e });
      }
      const report = inspectBytes(bytes, file, await trustArg(o.trust));
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspection(report));
    });
}
