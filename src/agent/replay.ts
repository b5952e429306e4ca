/**
 * Counterfactual replay: a recording's sensor streams through the daemon's own decision loop
 * (the same LatestValues, input checks, fillFeatures, one batched scoreBuffers, policy and
 * safety — `DecisionLoop` itself, not a copy), one tick per recorded decision, as fast as
 * possible, and each replayed decision compared with the recorded one.
 *
 * Exactness: before each recorded tick the latest values are rebuilt from exactly the sensor
 * messages the daemon had received at that tick (`sensors_before`), and the loop's clock reads
 * the recorded tick time, so the same model reproduces the same choice on every tick (issue 9).
 * Ticks the daemon answered with a time-dependent fallback (deadline, score_error) cannot be
 * reproduced and are counted apart.
 *
 * Loaded only by `edgereward replay` (it uses compress/evaluate's pure metrics).
 */
import { Subject } from 'rxjs';
import { spearman } from '../compress/evaluate/metrics.js';
import type { ReplayItem } from '../io/replay/read.js';
import type { LoopSettings } from '../io/record/format.js';
import type { ActionMessage } from '../io/sinks/ActionSink.js';
import { LatestValues } from './latest.js';
import { DecisionLoop, type DecisionDetail } from './loop.js';
import { makePolicy } from './policy.js';
import { ModelSlot, type ScorerLike } from './scorer.js';

export interface ReplayEvalOptions {
  scorer: ScorerLike;
  /** "Far lower": the new choice's recorded reward is below the recorded best by more than this share of the tick's recorded reward range. Default 0.25. */
  farShare?: number;
  /** Loop settings when the recording has none (recording_started event). */
  settings?: Partial<LoopSettings>;
  /** Called after every replayed tick. */
  onTick?: (n: number) => void;
}

export interface ReplayEvalReport {
  model: string;
  recordedModels: string[];
  ticks: number;
  /** Ticks where both the recorded and the replayed loop chose a candidate. */
  compared: number;
  /** Same candidate chosen. */
  agree: number;
  top1Agreement: number;
  /** Mean Spearman between recorded and replayed rewards over each tick's candidates. */
  spearman: number;
  /** Ticks whose new choice the recorded model scored far lower than its own best. */
  farLower: number;
  farLowerShare: number;
  farShare: number;
  /** Mean recorded-reward loss of the new choice (recorded best - recorded reward of the new choice). */
  meanRegret: number;
  /** Replayed fallbacks where the recording decided, and the reverse. */
  newFallbacks: Record<string, number>;
  recordedFallbacks: Record<string, number>;
  /** Recorded fallbacks that depend on wall time (deadline, score_error): not replayable. */
  unreplayable: number;
  /** Ticks where the replayed model's candidate count differs from the recording's. */
  candidateMismatch: number;
  latency: { recordedP50: number; recordedP99: number; replayedP50: number; replayedP99: number };
  /** Wall time of the whole replay, ms. */
  wallMs: number;
}

const TIME_DEPENDENT = new Set(['deadline', 'score_error']);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

export async function replayEvaluate(items: Iterable<ReplayItem>, o: ReplayEvalOptions): Promise<ReplayEvalReport> {
  const farShare = o.farShare ?? 0.25;
  const t0 = performance.now();
  const latest = new LatestValues();
  const ticks = new Subject<number>();
  let clockT = 0;
  let settings: LoopSettings = { policy: 'argmax', temperature: 0.1, seed: 1, fallback: { v: 0, w: 0 }, maxAgeMs: {}, defaultMaxAgeMs: 500, deadlineMs: 20, ...o.settings };
  // What the tap saw of the last replayed tick (copied: the loop reuses its objects).
  let got: { best: number; fallback: string | undefined; rewards: Float32Array | undefined; latency: number } | undefined;
  const tap = {
    decision(m: Readonly<ActionMessage>, d: Readonly<DecisionDetail>): void {
      got = { best: d.best, fallback: m.fallback, rewards: d.rewards ? d.rewards.slice(0, d.count) : undefined, latency: m.latency_ms };
    },
  };
  let loop: DecisionLoop | undefined;
  const makeLoop = (): DecisionLoop =>
    new DecisionLoop({
      models: new ModelSlot({ scorer: o.scorer, id: o.scorer.id }),
      latest,
      ticks,
      sinks: [],
      fallback: settings.fallback,
      // Replay runs as fast as it can: a tick is never cut short by wall time here.
      deadlineMs: 1e9,
      maxAgeMs: settings.maxAgeMs,
      defaultMaxAgeMs: settings.defaultMaxAgeMs,
      policy: makePolicy({ kind: settings.policy, temperature: settings.temperature, seed: settings.seed }),
      clock: () => clockT,
      taps: [tap],
    });

  const r: ReplayEvalReport = {
    model: o.scorer.id, recordedModels: [], ticks: 0, compared: 0, agree: 0, top1Agreement: NaN, spearman: NaN, farLower: 0, farLowerShare: NaN, farShare,
    meanRegret: NaN, newFallbacks: {}, recordedFallbacks: {}, unreplayable: 0, candidateMismatch: 0,
    latency: { recordedP50: NaN, recordedP99: NaN, replayedP50: NaN, replayedP99: NaN }, wallMs: 0,
  };
  const models = new Set<string>();
  const recLat: number[] = [];
  const repLat: number[] = [];
  let rhoSum = 0;
  let rhoN = 0;
  let regretSum = 0;
  // Sensor messages read ahead of their tick (written between tick start and publish).
  const pending: Array<Extract<ReplayItem, { kind: 'sensor' }>> = [];
  const bump = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1;
  };

  try {
    for (const it of items) {
      if (it.kind === 'event') {
        if (it.rec.kind === 'recording_started') {
          pending.length = 0;
          latest.clear();
          if (it.rec.loop) settings = { ...settings, ...it.rec.loop };
          if (loop) await loop.stop();
          loop = undefined;
        }
        continue;
      }
      if (it.kind === 'sensor') {
        pending.push(it);
        continue;
      }
      const rec = it.rec;
      let k = 0;
      while (k < pending.length && pending[k]!.n < rec.sensors_before) {
        const s = pending[k++]!;
        latest.set(s.stream, s.msg, s.rx);
      }
      pending.splice(0, k);
      if (!loop) {
        loop = makeLoop();
        loop.start();
      }
      clockT = rec.tick_t;
      got = undefined;
      ticks.next(performance.now());
      // One macrotask at least: the loop clears its in-flight tick in a promise callback, and a
      // tick fired before that would be skipped as an overrun.
      do await new Promise<void>((res) => setImmediate(res));
      while (got === undefined);
      const g = got as { best: number; fallback: string | undefined; rewards: Float32Array | undefined; latency: number };
      r.ticks++;
      models.add(rec.model);
      recLat.push(rec.latency_ms);
      repLat.push(g.latency);
      if (rec.fallback) bump(r.recordedFallbacks, rec.fallback);
      if (rec.fallback && TIME_DEPENDENT.has(rec.fallback)) {
        r.unreplayable++;
        continue;
      }
      if (g.fallback && !rec.fallback) bump(r.newFallbacks, g.fallback);
      if (rec.best < 0 || g.best < 0 || !g.rewards) continue;
      if (g.rewards.length !== rec.rewards.length) {
        r.candidateMismatch++;
        continue;
      }
      r.compared++;
      if (g.best === rec.best) r.agree++;
      const rho = spearman(rec.rewards, g.rewards);
      if (Number.isFinite(rho)) {
        rhoSum += rho;
        rhoN++;
      }
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of rec.rewards) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      const loss = rec.rewards[rec.best]! - rec.rewards[g.best]!;
      regretSum += loss;
      if (hi > lo && loss > farShare * (hi - lo)) r.farLower++;
      o.onTick?.(r.ticks);
    }
  } finally {
    await loop?.stop();
  }
  r.recordedModels = [...models];
  r.top1Agreement = r.compared > 0 ? r.agree / r.compared : NaN;
  r.spearman = rhoN > 0 ? rhoSum / rhoN : NaN;
  r.farLowerShare = r.compared > 0 ? r.farLower / r.compared : NaN;
  r.meanRegret = r.compared > 0 ? regretSum / r.compared : NaN;
  r.latency = { recordedP50: pct(recLat, 0.5), recordedP99: pct(recLat, 0.99), replayedP50: pct(repLat, 0.5), replayedP99: pct(repLat, 0.99) };
  r.wallMs = performance.now() - t0;
  return r;
}
