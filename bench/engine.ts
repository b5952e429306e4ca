/**
 * The engine benchmark: `npx tsx bench/engine.ts [--model M]... [--batch 1,16,64,256]
 * [--threads N] [--seconds S] [--json]`. Without --model it runs the shipped sample bundle and,
 * when present, the PyTorch-exported test/fixtures/pytorch/mlp4_reward.onnx. The same
 * measurement backs `edgereward bench` (src/runtime/engine/benchmark.ts).
 *
 * Figures, not assertions: p50/p99 latency and candidates/s per batch size, and two ratios
 * measured side by side, A/B interleaved in the same run — overhead_ratio (engine / bare
 * session.run, goal <= 1.10 at batch 64) and batching_gain (64 single runs / one batched run,
 * goal >= 10).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { log } from '../src/telemetry/log.js';
import { benchModel, formatBench } from '../src/runtime/engine/benchmark.js';

const root = (p: string): string => fileURLToPath(new URL(`../${p}`, import.meta.url));

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    batch: { type: 'string', default: '1,16,64,256' },
    threads: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});

if (!process.env['EDGEREWARD_LOG_LEVEL']) log.level = 'warn';
const models = values.model ?? [root('models/sample/sample.bundle'), root('test/fixtures/pytorch/mlp4_reward.onnx')].filter((p) => existsSync(p));
const batches = values.batch.split(',').map(Number);
for (const m of models) {
  const r = await benchModel(m, { batches, intraOpThreads: Number(values.threads), seconds: Number(values.seconds) });
  process.stdout.write((values.json ? JSON.stringify(r) : formatBench(r)) + '\n');
}
