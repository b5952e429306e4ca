/**
 * `edgereward compress quantize|prune IN OUT …`: thin — parse, call src/compress (imported
 * lazily: the daemon never loads it), print the report, write OUT only when the result loaded.
 */
import type { Command } from 'commander';
import type { QuantizeOptions } from '../compress/quantize/index.js';
import type { PipelineOptions } from '../compress/pipeline/pipeline.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

function num(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new TypeError(`"${name}" is not a number: ${v}`);
    return n;
  };
}

/** Refuse early (before minutes of work) when a bundle output could not be signed. */
function requireKey(src: { path: string; bundle?: unknown }, key: string | undefined): void {
  if (src.bundle && !key) {
    process.stderr.write(`edgereward: E_COMPRESS_KEY: ${src.path} is a bundle: its compressed copy must be re-signed; pass --key <private key .pem>\n`);
    process.exit(2);
  }
}

async function dataOpt(path: string | undefined) {
  if (!path) return undefined;
  const { readDataset } = await import('../compress/evaluate/data.js');
  return readDataset(path);
}

/** The flags; the fields shared with the library's options take their types from it. */
type QuantizeFlags = Pick<QuantizeOptions, 'percentile' | 'fallback' | 'minSpearman' | 'minTop1' | 'groupSize' | 'kernel' | 'blockSize' | 'deployBatch' | 'sensitivity'> & {
  mode?: 'dynamic' | 'static' | 'weight-only';
  bits?: number;
  pow2?: boolean;
  perChannel?: boolean;
  symmetric?: boolean;
  fullRange?: boolean;
  calib?: string;
  eval?: string;
  exclude: string[];
  threads?: number;
  key?: string;
  json?: boolean;
};

interface PruneFlags {
  sparsity?: number;
  threshold?: number;
  structured?: boolean;
  perLayer?: boolean;
  sparseStorage?: boolean;
  exclude: string[];
  eval?: string;
  groupSize?: number;
  threads?: number;
  key?: string;
  json?: boolean;
}

type PipelineFlags = Pick<PipelineOptions, 'teacher' | 'data' | 'out' | 'key' | 'targetLatencyMs' | 'lambda' | 'cost' | 'maxBytes' | 'budgetMin' | 'maxEvaluations' | 'work' | 'evalEpisodes' | 'evalSeed' | 'name' | 'version'> & { json?: boolean };

export function register(program: Command): void {
  const compress = program.command('compress').description('Shrink a reward model (ONNX file or bundle): quantize, prune; every result is checked in onnxruntime-node before it is written');

  compress
    .command('quantize')
    .description('Quantize weights (and activations in static mode) to int8, or weights to 4 bits')
    .argument('<in>', 'input .onnx or bundle')
    .argument('<out>', 'output path (a bundle when the input is one)')
    .option('--mode <mode>', 'dynamic | static | weight-only (default: static with --calib, else dynamic)')
    .option('--bits <b>', 'weight bits: 8 (default) or 4 (weight-only); 2..8 with --pow2', num('bits'))
    .option('--pow2', "power-of-two scales: the seed's fixed-point form W' = round(W·2^f)/2^f")
    .option('--per-channel', 'one scale per output channel')
    .option('--symmetric', 'symmetric weights (zero point 0; the default)')
    .option('--no-symmetric', 'asymmetric weights (uint8 with a zero point)')
    .option('--full-range', 'symmetric 8-bit weights use ±127 instead of ±63 (only for CPUs with VNNI)')
    .option('--calib <data>', 'calibration data: JSONL of named inputs, or a .ref.json fixture')
    .option('--eval <data>', 'held-out data for the fidelity figures (default: the calibration data)')
    .option('--percentile <p>', 'calibrate activation ranges at this percentile instead of min/max', num('percentile'))
    .option('--exclude <names>', 'node names or op types to leave in float (repeat or comma-separate)', collect, [])
    .option('--fallback', 'leave in float the nodes that are not faster quantized at the deployment batch')
    .option('--min-spearman <s>', 'keep the most harmful nodes in float until Spearman ≥ s on --calib', num('min-spearman'))
    .option('--min-top1 <a>', 'keep the most harmful nodes in float until top-1 agreement ≥ a on --calib', num('min-top1'))
    .option('--group-size <n>', 'candidates per state for Spearman/top-1 (default 65)', num('group-size'))
    .option('--sensitivity', 'report how much quantizing each node alone moves the output')
    .option('--kernel <k>', 'dynamic mode: fused (DynamicQuantizeMatMul, default) | integer (MatMulInteger)')
    .option('--block-size <n>', 'weight-only block size (default 32)', num('block-size'))
    .option('--deploy-batch <n>', 'batch size the model runs at on the robot (default 64)', num('deploy-batch'))
    .option('--threads <n>', 'onnxruntime intra-op threads for the checks (default 1)', num('threads'))
    .option('--key <pem>', 'private key to re-sign an output bundle')
    .option('--json', 'print the report as JSON')
    .action(async (input: string, out: string, f: QuantizeFlags) => {
      const { readCompressInput, writeCompressOutput } = await import('../compress/io.js');
      const { quantizeModel } = await import('../compress/quantize/index.js');
      const { formatReport } = await import('../compress/report.js');
      const src = readCompressInput(input);
      requireKey(src, f.key);
      const calib = await dataOpt(f.calib);
      const evalData = await dataOpt(f.eval);
      const res = await quantizeModel(src.model, {
        ...(f.mode ? { mode: f.mode } : {}),
        ...(f.bits !== undefined ? { bits: f.bits } : {}),
        pow2: !!f.pow2,
        perChannel: !!f.perChannel,
        symmetric: f.symmetric !== false,
        fullRange: !!f.fullRange,
        ...(calib ? { calib } : {}),
        ...(evalData ? { evalData } : {}),
        ...(f.percentile !== undefined ? { percentile: f.percentile, calibration: 'percentile' as const } : {}),
        exclude: f.exclude,
        fallback: !!f.fallback,
        ...(f.minSpearman !== undefined ? { minSpearman: f.minSpearman } : {}),
        ...(f.minTop1 !== undefined ? { minTop1: f.minTop1 } : {}),
        ...(f.groupSize !== undefined ? { groupSize: f.groupSize } : {}),
        sensitivity: !!f.sensitivity,
        ...(f.kernel ? { kernel: f.kernel } : {}),
        ...(f.blockSize !== undefined ? { blockSize: f.blockSize } : {}),
        ...(f.deployBatch !== undefined ? { deployBatch: f.deployBatch } : {}),
        ...(f.threads !== undefined ? { threads: f.threads } : {}),
      });
      writeCompressOutput(out, src, res.bytes, res.report, f.key);
      process.stdout.write(f.json ? JSON.stringify(res.report) + '\n' : `${formatReport(res.report)}\n  wrote       ${out}\n`);
    });

  compress
    .command('prune')
    .description('Prune weights: magnitude (threshold or sparsity) or whole hidden units / channels')
    .argument('<in>', 'input .onnx or bundle')
    .argument('<out>', 'output path (a bundle when the input is one)')
    .option('--sparsity <s>', 'share of weights (or, with --structured, of hidden units/channels) to remove', num('sparsity'))
    .option('--threshold <tau>', "zero weights with |w| ≤ τ (the seed's W' = W·I(|W|>τ))", num('threshold'))
    .option('--structured', 'remove whole hidden units of MLP chains and channels of Conv chains')
    .option('--per-layer', 'every layer loses the same share (default: one global threshold)')
    .option('--sparse-storage', 'store pruned tensors as ONNX sparse initializers when smaller')
    .option('--exclude <names>', 'node names or op types to leave as they are', collect, [])
    .option('--eval <data>', 'data for the fidelity figures: JSONL of named inputs or a .ref.json')
    .option('--group-size <n>', 'candidates per state for Spearman/top-1 (default 65)', num('group-size'))
    .option('--threads <n>', 'onnxruntime intra-op threads for the checks (default 1)', num('threads'))
    .option('--key <pem>', 'private key to re-sign an output bundle')
    .option('--json', 'print the report as JSON')
    .action(async (input: string, out: string, f: PruneFlags) => {
      const { readCompressInput, writeCompressOutput } = await import('../compress/io.js');
      const { pruneModel } = await import('../compress/prune/index.js');
      const { formatReport } = await import('../compress/report.js');
      const src = readCompressInput(input);
      requireKey(src, f.key);
      const evalData = await dataOpt(f.eval);
      const res = await pruneModel(src.model, {
        ...(f.sparsity !== undefined ? { sparsity: f.sparsity } : {}),
        ...(f.threshold !== undefined ? { threshold: f.threshold } : {}),
        structured: !!f.structured,
        perLayer: !!f.perLayer,
        sparseStorage: !!f.sparseStorage,
        exclude: f.exclude,
        ...(evalData ? { evalData } : {}),
        ...(f.groupSize !== undefined ? { groupSize: f.groupSize } : {}),
        ...(f.threads !== undefined ? { threads: f.threads } : {}),
      });
      writeCompressOutput(out, src, res.bytes, res.report, f.key);
      process.stdout.write(f.json ? JSON.stringify(res.report) + '\n' : `${formatReport(res.report)}\n  wrote       ${out}\n`);
    });

  compress
    .command('pipeline')
    .description('Teacher -> signed student bundle: architecture search + distillation -> prune (+ fine-tune) -> quantize -> evaluate -> sign, with a report; restartable')
    .requiredOption('--teacher <path>', 'teacher model: .onnx or bundle')
    .requiredOption('--data <file>', 'dataset from `edgereward sim dataset` (states, candidates, true rewards)')
    .requiredOption('--out <bundle>', 'student bundle to write (the report goes next to it)')
    .requiredOption('--key <pem>', 'private key that signs the student')
    .option('--target-latency-ms <ms>', 'latency budget at the deployment batch (65 candidates), measured on this machine', num('target-latency-ms'))
    .option('--lambda <l>', "weight of the cost in the search's objective L + λ·C", num('lambda'))
    .option('--cost <c>', 'C for --lambda: latency (ms, default) | bytes (kB) | params (thousands)')
    .option('--max-bytes <n>', 'size limit of the student model (a constraint of the search)', num('max-bytes'))
    .option('--budget-min <m>', 'search budget in minutes (default 10)', num('budget-min'))
    .option('--max-evaluations <n>', 'search budget in candidate evaluations', num('max-evaluations'))
    .option('--work <dir>', 'work directory with one checkpoint per stage (default <out>.work)')
    .option('--eval-episodes <n>', 'closed-loop episodes for teacher and student (default 200; 0 skips)', num('eval-episodes'))
    .option('--eval-seed <s>', 'first world seed of the closed-loop evaluation (default 1000)', num('eval-seed'))
    .option('--name <name>', 'student model name (default: the teacher name with -student)')
    .option('--version <v>', 'student version (default: the teacher version)')
    .option('--json', 'print the summary as JSON')
    .action(async (f: PipelineFlags) => {
      const { runPipeline } = await import('../compress/pipeline/index.js');
      const res = await runPipeline({
        teacher: f.teacher,
        data: f.data,
        out: f.out,
        key: f.key,
        ...(f.targetLatencyMs !== undefined ? { targetLatencyMs: f.targetLatencyMs } : {}),
        ...(f.lambda !== undefined ? { lambda: f.lambda } : {}),
        ...(f.cost ? { cost: f.cost } : {}),
        ...(f.maxBytes !== undefined ? { maxBytes: f.maxBytes } : {}),
        ...(f.budgetMin !== undefined ? { budgetMin: f.budgetMin } : {}),
        ...(f.maxEvaluations !== undefined ? { maxEvaluations: f.maxEvaluations } : {}),
        ...(f.work ? { work: f.work } : {}),
        ...(f.evalEpisodes !== undefined ? { evalEpisodes: f.evalEpisodes } : {}),
        ...(f.evalSeed !== undefined ? { evalSeed: f.evalSeed } : {}),
        ...(f.name ? { name: f.name } : {}),
        ...(f.version ? { version: f.version } : {}),
        progress: !f.json,
      });
      if (f.json) {
        process.stdout.write(JSON.stringify(res.summary) + '\n');
        return;
      }
      const s = res.summary;
      const lines = [
        `${s.student.id}: ${s.student.arch}`,
        ...s.targets.map((t) => `  ${t.met ? 'ok ' : 'NO '} ${t.name.padEnd(58)} ${t.value}  (target ${t.target})`),
        `  wrote ${res.out} (${s.student.bytes} bytes) and ${res.report}`,
        ...(res.stagesResumed.length ? [`  resumed: ${res.stagesResumed.join(', ')} were done in an earlier run`] : []),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
