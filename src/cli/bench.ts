/**
 * `edgereward bench [--model M] [--batch 1,16,64,256] [--threads N] [--seconds S] [--json]`:
 * latency per batch size and the two side-by-side ratios (see src/runtime/engine/benchmark.ts).
 * Without --model it runs the shipped sample bundle.
 */
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { list, positiveInt, quietLogs, trustArg } from './common.js';

interface BenchOpts { model?: string; batch: string; threads: string; seconds: string; json?: boolean; provider?: string; trust?: string }

/** models/sample/sample.bundle, from src/cli (tsx) and dist/cli (built) alike. */
export const SAMPLE_BUNDLE = fileURLToPath(new URL('../../models/sample/sample.bundle', import.meta.url));

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmark a model: p50/p99 latency and candidates/s per batch size, engine overhead and batching gain')
    .option('--model <file>', 'an .onnx file or a bundle (default: the shipped sample bundle)')
    .option('--batch <list>', 'comma-separated batch sizes', '1,16,64,256')
    .option('--threads <n>', 'intra-op threads', '1')
    .option('--seconds <s>', 'total time budget', '10')
    .option('--provider <list>', 'execution providers to try in order (cpu is always the fallback)', 'cpu')
    .option('--trust <dir>', 'also verify a bundle\'s signature against these public keys')
    .option('--json', 'print {model, batches:[{batch, p50_ms, p99_ms, cand_per_s}], overhead_ratio, batching_gain, ...}')
    .action(async (o: BenchOpts) => {
      await quietLogs(); // stdout carries the figures
      const { EdgeError } = await import('../errors.js');
      const { benchModel, formatBench } = await import('../runtime/engine/benchmark.js');
      const batches = list(o.batch).map(Number);
      if (batches.length === 0 || batches.some((b) => !Number.isInteger(b) || b < 1 || b > 65536)) {
        throw new EdgeError('E_CLI_ARG', `--batch must be a comma-separated list of integers from 1 to 65536, got "${o.batch}"`);
      }
      const threads = positiveInt('--threads', o.threads);
      const seconds = Number(o.seconds);
      if (!(seconds > 0 && seconds <= 3600)) throw new EdgeError('E_CLI_ARG', `--seconds must be a number of seconds between 0 and 3600, got "${o.seconds}"`);
      const trust = await trustArg(o.trust);
      const r = await benchModel(o.model ?? SAMPLE_BUNDLE, {
        batches, seconds, intraOpThreads: threads, executionProviders: o.provider === undefined ? undefined : list(o.provider), trust,
      });
      process.stdout.write((o.json ? JSON.stringify(r) : formatBench(r)) + '\n');
    });
}
