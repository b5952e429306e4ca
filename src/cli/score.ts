/**
 * `edgereward score --model M --input rows.jsonl [--json]`: score rows of model inputs.
 * One JSON object per line, keyed by the model's input names, each a flat or nested number
 * array holding one candidate's values; prints one reward per row. All rows go in one
 * batched run when the model has a dynamic batch axis.
 */
import type { Command } from 'commander';
import { positiveInt, quietLogs, trustArg } from './common.js';

interface ScoreOpts { model: string; input: string; json?: boolean; trust?: string; output?: string; threads: string }

export function register(program: Command): void {
  program
    .command('score')
    .description('score rows of model inputs (JSON lines) with an ONNX model or a bundle; prints one reward per row')
    .requiredOption('--model <file>', 'an .onnx file or a bundle')
    .requiredOption('--input <file>', 'JSON lines: {"<input name>": [numbers...], ...} per row ("-" for stdin)')
    .option('--json', 'print {"model", "rewards": [...]} (non-finite rewards as null)')
    .option('--trust <dir>', 'also verify a bundle\'s signature against these public keys')
    .option('--output <name>', 'the output holding the rewards, for .onnx files with several outputs (default: the first)')
    .option('--threads <n>', 'intra-op threads', '1')
    .action(async (o: ScoreOpts) => {
      await quietLogs(); // stdout carries the rewards
      const { readFileSync } = await import('node:fs');
      const { EdgeError, describeError } = await import('../errors.js');
      const { openScorer } = await import('../runtime/engine/index.js');
      const { parseRows } = await import('../runtime/engine/rows.js');
      let text: string;
      try {
        text = readFileSync(o.input === '-' ? 0 : o.input, 'utf8');
      } catch (e) {
        throw new EdgeError('E_CLI_READ', `cannot read input ${o.input} (${describeError(e)}); check the path`, { cause: e });
      }
      const trust = await trustArg(o.trust);
      const threads = positiveInt('--threads', o.threads);
      const { scorer } = await openScorer(o.model, { trust, intraOpThreads: threads, output: o.output, warmupRuns: 0 });
      try {
        const rows = parseRows(text, scorer.layout, o.input === '-' ? 'stdin' : o.input);
        const rewards = new Float32Array(rows.count);
        // One run for everything when the batch axis is dynamic; bounded chunks keep memory flat for huge files.
        const CHUNK = 65536;
        for (let start = 0; start < rows.count; start += CHUNK) {
          const n = Math.min(CHUNK, rows.count - start);
          const bufs = scorer.inputBuffers(n);
          scorer.layout.inputs.forEach((l, k) => {
            const src = rows.values[k]!;
            bufs[k]!.set(l.batched ? src.subarray(start * l.rowSize, (start + n) * l.rowSize) : src);
          });
          rewards.set(await scorer.scoreBuffers(n), start);
        }
        if (o.json) {
          process.stdout.write(JSON.stringify({ model: scorer.id, rewards: Array.from(rewards, (r) => (Number.isFinite(r) ? r : null)) }) + '\n');
        } else {
          process.stdout.write(Array.from(rewards, (r) => String(r)).join('\n') + (rows.count ? '\n' : ''));
        }
      } finally {
        await scorer.release();
      }
    });
}
