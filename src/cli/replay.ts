/**
 * `edgereward replay FILE.mcap|DIR [--model M] [--trust DIR] [--far PCT] [--json]`
 *   without --model: what the recording holds (files, channels, counts, decisions, fallbacks);
 *   with --model: the recorded sensor streams through the daemon's decision loop with model M,
 *   as fast as possible, compared with the recorded decisions (top-1 agreement, Spearman,
 *   far-lower choices, latency) — the check to run on real data before `fleet publish`.
 * `edgereward replay FILE|DIR --realtime --broker URL [--device ID] [--speed X]`
 *   publishes the recorded sensor messages into a live broker at recorded speed.
 */
import type { Command } from 'commander';
import { quietLogs, trustArg } from './common.js';

interface ReplayOpts {
  model?: string;
  trust?: string;
  far: string;
  json?: boolean;
  realtime?: boolean;
  broker?: string;
  device: string;
  prefix: string;
  speed: string;
  protocol: string;
  threads: string;
}

const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay a recording (MCAP file or directory): compare a model\'s decisions with the recorded ones, or drive a broker at recorded speed')
    .argument('<recording>', 'an .mcap file or a directory of recordings (edgereward run --record DIR)')
    .option('--model <bundle>', 'the model to evaluate on the recording (a bundle, or the recorded one to check reproduction)')
    .option('--trust <dir>', 'verify the bundle\'s signature against these public keys')
    .option('--far <percent>', '"far lower": the new choice scored by the recorded model below its best by more than this percent of the tick\'s reward range', '25')
    .option('--json', 'print the report as JSON')
    .option('--realtime', 'publish the recorded sensor messages into a broker at recorded speed instead')
    .option('--broker <url>', 'with --realtime: the broker, e.g. mqtt://127.0.0.1:1883')
    .option('--device <id>', 'with --realtime: device id of the topics', 'demo')
    .option('--prefix <prefix>', 'with --realtime: topic prefix', 'edgereward')
    .option('--speed <x>', 'with --realtime: 1 = recorded speed', '1')
    .option('--protocol <v>', 'with --realtime: MQTT protocol version 4 or 5', '4')
    .option('--threads <n>', 'intra-op threads for --model', '1')
    .action(async (file: string, o: ReplayOpts) => {
      await quietLogs();
      const { EdgeError } = await import('../errors.js');
      const { readRecording, replayItems } = await import('../io/replay/read.js');
      const { messages, summary } = await readRecording(file);
      const out = (s: string): boolean => process.stdout.write(s + '\n');

      if (o.realtime) {
        if (!o.broker) throw new EdgeError('E_CLI_ARG', '--realtime needs --broker URL (the broker the daemon listens to)');
        const { replayRealtime } = await import('../io/replay/realtime.js');
        const ac = new AbortController();
        process.once('SIGINT', () => ac.abort());
        const r = await replayRealtime(replayItems(messages), { url: o.broker, device: o.device, prefix: o.prefix, speed: Number(o.speed), protocolVersion: o.protocol === '5' ? 5 : 4, signal: ac.signal });
        if (o.json) out(JSON.stringify(r));
        else out(`published ${r.published} sensor messages to ${o.broker} in ${(r.durationMs / 1000).toFixed(1)} s (recorded ${(r.recordedMs / 1000).toFixed(1)} s)`);
        return;
      }

      const topics = Object.entries(summary.byTopic).sort(([a], [b]) => a.localeCompare(b));
      const durationS = Number.isFinite(summary.endMs - summary.startMs) ? (summary.endMs - summary.startMs) / 1000 : 0;
      if (!o.model) {
        const items = [...replayItems(messages)];
        const decisions = items.filter((i) => i.kind === 'decision').map((i) => (i as { rec: { fallback: string | null; model: string; latency_ms: number } }).rec);
        const fallbacks: Record<string, number> = {};
        for (const d of decisions) if (d.fallback) fallbacks[d.fallback] = (fallbacks[d.fallback] ?? 0) + 1;
        const models = [...new Set(decisions.map((d) => d.model))];
        const report = { files: summary.files, bytes: summary.bytes, incomplete_files: summary.incomplete, errors: summary.errors, duration_s: durationS, messages: summary.messages, topics: Object.fromEntries(topics), decisions: decisions.length, fallbacks, models };
        if (o.json) return void out(JSON.stringify(report, null, 2));
        out(`${file}: ${summary.files} file(s), ${(summary.bytes / 1e6).toFixed(2)} MB, ${durationS.toFixed(1)} s, ${summary.messages} messages${summary.incomplete ? `, ${summary.incomplete} file(s) cut short (read up to their last complete chunk)` : ''}`);
        for (const [t, n] of topics) out(`  ${t.padEnd(20)} ${String(n).padStart(8)}`);
        out(`decisions ${decisions.length} by ${models.join(', ') || 'no model'}; fallbacks ${JSON.stringify(fallbacks)}`);
        out('compare a model with: edgereward replay ' + file + ' --model <bundle>');
        return;
      }

      const far = Number(o.far);
      if (!(far >= 0 && far <= 100)) throw new EdgeError('E_CLI_ARG', `--far must be a percentage from 0 to 100, got "${o.far}"`);
      const threads = Number(o.threads);
      const { openScorer } = await import('../runtime/engine/open.js');
      const trust = await trustArg(o.trust);
      const { scorer } = await openScorer(o.model, { ...(trust ? { trust } : {}), intraOpThreads: threads, warmupRuns: 3 });
      if (!scorer.plan || !scorer.candidates) {
        await scorer.release();
        throw new EdgeError('E_MODEL_MANIFEST', `${o.model} has no feature map or action space, so recorded streams cannot feed it; replay a bundle, not a bare .onnx file`);
      }
      const { replayEvaluate } = await import('../agent/replay.js');
      try {
        const r = await replayEvaluate(replayItems(messages), { scorer, farShare: far / 100 });
        if (o.json) return void out(JSON.stringify({ recording: file, files: summary.files, duration_s: durationS, ...r }, null, 2));
        out(`replayed ${r.ticks} decisions (${durationS.toFixed(1)} s recorded by ${r.recordedModels.join(', ')}) with ${r.model} in ${(r.wallMs / 1000).toFixed(2)} s`);
        out(`  compared ticks         ${r.compared}${r.unreplayable ? ` (${r.unreplayable} recorded deadline/score_error fallbacks not replayable)` : ''}${r.candidateMismatch ? ` (${r.candidateMismatch} with a different candidate count)` : ''}`);
        out(`  top-1 agreement        ${fmt(r.top1Agreement * 100, 1)} %  (${r.agree}/${r.compared})`);
        out(`  Spearman (candidates)  ${fmt(r.spearman)}`);
        out(`  far-lower choices      ${fmt(r.farLowerShare * 100, 1)} %  (${r.farLower}: recorded reward below the recorded best by > ${far}% of the tick's range)`);
        out(`  mean regret            ${fmt(r.meanRegret, 4)}  (recorded model's reward units)`);
        out(`  latency p50/p99        recorded ${fmt(r.latency.recordedP50)}/${fmt(r.latency.recordedP99)} ms, replayed ${fmt(r.latency.replayedP50)}/${fmt(r.latency.replayedP99)} ms`);
        if (Object.keys(r.newFallbacks).length) out(`  new fallbacks          ${JSON.stringify(r.newFallbacks)}`);
      } finally {
        await scorer.release();
      }
    });
}
