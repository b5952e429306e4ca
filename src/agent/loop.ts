/**
 * The decision loop: per tick, latest values -> features (manifest) -> ONE batched score ->
 * policy -> safety -> action to the sinks. A long-lived resource, so a class; everything it
 * needs per tick is allocated once per model (buffers, the action object, the freshness list)
 * and the message object is reused (pino style: nothing on the hot path that is not needed).
 */
import type { Observable, Subscription } from 'rxjs';
import { fillFeatures } from '../runtime/features/assemble.js';
import { counter, gauge, histogram } from '../telemetry/metrics.js';
import { moduleLogger, rateLimitedLog } from '../telemetry/log.js';
import { describeError } from '../errors.js';
import type { ActionMessage, ActionSink } from '../io/sinks/ActionSink.js';
import type { DecisionDetail, DecisionTap } from '../io/sinks/DecisionTap.js';
import type { LatestValues } from './latest.js';
import { LatencyRing } from './latency.js';
import type { PolicyFn } from './policy.js';
import { argmax } from './policy.js';
import { checkInputs, countFallback, outputsFinite, type FallbackReason, type Freshness } from './safety.js';
import { ScorerGate, type ActiveModel, type ModelSource } from './scorer.js';

const log = moduleLogger('loop');
const warn = rateLimitedLog(log);

const latencyHist = histogram(
  'edgereward_decision_latency_seconds',
  'Tick start to action published',
  [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25],
);
const ticksTotal = counter('edgereward_ticks_total', 'Decision ticks started');
const coalescedTotal = counter('edgereward_ticks_coalesced_total', 'Trigger ticks that arrived during a decision and were folded into one follow-up decision');
const misses = counter<'kind'>('edgereward_deadline_misses_total', 'Ticks without a model decision in time: deadline (scoring too slow) or overrun (previous tick still running)', ['kind']);
const missDeadline = misses.labels('deadline');
const missOverrun = misses.labels('overrun');
const modelInfo = gauge<'model'>('edgereward_model_info', 'The active model (value 1), labelled name@version', ['model']);

export interface LoopOptions {
  models: ModelSource;
  latest: LatestValues;
  /** Tick times (performance.now()), e.g. `ticks({rateHz: 50})`. */
  ticks: Observable<number>;
  sinks: ActionSink[];
  /** Published with `fallback: reason` whenever the model's choice cannot be used. */
  fallback: Record<string, number>;
  /** A tick's decision must be published within this many ms of its start. Default 20. */
  deadlineMs?: number;
  /** Max age (ms) of a stream's latest value; streams not listed use `defaultMaxAgeMs`. */
  maxAgeMs?: Readonly<Record<string, number>>;
  /** Default 500. */
  defaultMaxAgeMs?: number;
  /** Default argmax. */
  policy?: PolicyFn;
  /** Shared with the score service so the two never fill the same buffers at once. */
  gate?: ScorerGate;
  /** Unix ms (for ages and the message's `t`); default Date.now. */
  clock?: () => number;
  /** Observers of every tick (the recorder, the Foxglove bridge): read-only, synchronous. */
  taps?: DecisionTap[];
  /**
   * Trigger mode: a tick that arrives while a decision is in flight is not a miss but is
   * coalesced into ONE follow-up decision on the freshest values (sensor messages often arrive
   * in bursts, two in one TCP read). Default false: at a fixed rate an overrun is a miss.
   */
  coalesce?: boolean;
}

export type { DecisionDetail, DecisionTap } from '../io/sinks/DecisionTap.js';

interface ModelState {
  count: number;
  bufs: Float32Array[];
  needs: Freshness[];
  action: Record<string, number>;
  names: string[];
  values: Float32Array;
}

export interface LoopStats {
  ticks: number;
  decisions: number;
  fallbacks: number;
  deadlineMisses: number;
  overruns: number;
  /** performance.now() when the last tick completed (decision or fallback); NaN before. */
  lastDoneAt: number;
  /** The reason of the last fallback, or undefined when the last tick decided. */
  lastFallback: FallbackReason | undefined;
}

export class DecisionLoop {
  readonly latency = new LatencyRing(1024);
  readonly stats: LoopStats = { ticks: 0, decisions: 0, fallbacks: 0, deadlineMisses: 0, overruns: 0, lastDoneAt: NaN, lastFallback: undefined };
  /** The last published message (the reused object: read, do not keep). */
  readonly last: ActionMessage;
  readonly gate: ScorerGate;

  private readonly o: Required<Omit<LoopOptions, 'gate' | 'maxAgeMs' | 'taps'>> & { maxAgeMs: Readonly<Record<string, number>> };
  private readonly states = new WeakMap<ActiveModel, ModelState>();
  private readonly ageOut = { oldest: 0 };
  private sub: Subscription | undefined;
  private pending = false;
  private inFlight: Promise<void> | undefined;
  private seq = 0;
  /** The seq whose deadline is armed (0: none) and the last seq that timed out. */
  private armed = 0;
  private timedOut = 0;
  private tickStart = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private modelId = '';
  private readonly detail: DecisionDetail = { tickAt: 0, rewards: undefined, count: 0, best: -1, plan: undefined, candidates: undefined, inputs: undefined };
  private readonly taps: DecisionTap[];

  constructor(opts: LoopOptions) {
    this.o = {
      deadlineMs: 20,
      defaultMaxAgeMs: 500,
      policy: argmax,
      clock: Date.now,
      coalesce: false,
      ...opts,
      maxAgeMs: opts.maxAgeMs ?? {},
    };
    this.gate = opts.gate ?? new ScorerGate();
    this.taps = opts.taps ?? [];
    this.last = { t: 0, seq: 0, action: this.o.fallback, reward: null, model: '', latency_ms: 0, obs_age_ms: null, fallback: undefined };
  }

  get running(): boolean {
    return this.sub !== undefined;
  }

  /**
   * Healthy = running and a tick completed (decision or fallback) within `stallMs`: what the
   * systemd watchdog is fed on. `deciding` adds that the last tick used the model (readiness).
   */
  health(stallMs: number, now = performance.now()): { ticking: boolean; deciding: boolean; lastFallback: FallbackReason | undefined } {
    const ticking = this.running && now - this.stats.lastDoneAt <= stallMs;
    return { ticking, deciding: ticking && this.stats.lastFallback === undefined, lastFallback: this.stats.lastFallback };
  }

  start(): void {
    if (this.sub) return;
    this.deadlineTimer = setTimeout(() => this.onDeadline(), this.o.deadlineMs);
    this.deadlineTimer.unref();
    this.armed = 0;
    this.sub = this.o.ticks.subscribe({
      next: (t) => this.onTick(t),
      error: (e: unknown) => log.error({ err: describeError(e) }, 'the tick source failed; the loop stopped'),
    });
  }

  /** Stop ticking and wait for the tick in flight (its action is still published). */
  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = undefined;
    if (this.inFlight) await this.inFlight;
    clearTimeout(this.deadlineTimer);
    this.armed = 0;
  }

  private onTick(t0: number): void {
    this.stats.ticks++;
    ticksTotal.inc();
    if (this.inFlight && this.o.coalesce) {
      this.pending = true;
      coalescedTotal.inc();
      return;
    }
    if (this.inFlight) {
      // The previous decision is still being scored: skipping keeps decisions fresh instead
      // of queueing them (its deadline timer publishes the fallback if it runs too long).
      this.stats.overruns++;
      this.stats.deadlineMisses++;
      missOverrun.inc();
      return;
    }
    this.inFlight = this.decide(t0).then(this.done, this.failed);
  }

  private readonly done = (): void => {
    this.inFlight = undefined;
    if (this.pending && this.sub) {
      this.pending = false;
      this.inFlight = this.decide(performance.now()).then(this.done, this.failed);
    }
  };

  private readonly failed = (e: unknown): void => {
    this.inFlight = undefined;
    warn('tick', { err: describeError(e) }, 'a decision tick failed');
  };

  private stateFor(m: ActiveModel): ModelState | undefined {
    let s = this.states.get(m);
    if (s) return s;
    const sc = m.scorer;
    const cands = sc.candidates;
    const plan = sc.plan;
    if (!cands || !plan) return undefined;
    const needs: Freshness[] = [];
    for (const stream of plan.streams.keys()) needs.push({ stream, maxAgeMs: this.o.maxAgeMs[stream] ?? this.o.defaultMaxAgeMs });
    const action: Record<string, number> = {};
    for (const n of cands.names) action[n] = 0;
    s = { count: cands.count, bufs: sc.inputBuffers(cands.count), needs, action, names: cands.names, values: cands.values };
    this.states.set(m, s);
    return s;
  }

  private async decide(t0: number): Promise<void> {
    const seq = ++this.seq;
    this.tickStart = t0;
    this.armed = seq;
    this.deadlineTimer?.refresh();
    const now = this.o.clock();
    const dt = this.detail;
    dt.tickAt = now;
    dt.rewards = undefined;
    dt.best = -1;
    for (let i = 0; i < this.taps.length; i++) this.taps[i]!.tick?.(now);
    const m = this.o.models.current();
    if (m === undefined) return this.fallback('no_model', seq, t0, null);
    this.noteModel(m.id);
    const st = this.stateFor(m);
    if (st === undefined) return this.fallback('no_model', seq, t0, null);
    dt.plan = m.scorer.plan;
    dt.candidates = m.scorer.candidates;
    dt.inputs = st.bufs;
    dt.count = st.count;
    const verdict = checkInputs(this.o.latest, st.needs, now, this.ageOut);
    if (verdict) return this.fallback(verdict.reason, seq, t0, verdict.reason === 'stale_input' ? verdict.ageMs : null);
    const obsAge = this.ageOut.oldest;
    const wait = this.gate.acquire();
    if (wait) await wait;
    let rewards: Float32Array;
    try {
      const bad = fillFeatures(m.scorer.plan!, this.o.latest.view, m.scorer.candidates!, st.bufs);
      if (bad > 0) return this.fallback('non_finite_input', seq, t0, obsAge);
      rewards = await m.scorer.scoreBuffers(st.count);
    } catch (e) {
      warn('score', { err: describeError(e), model: m.id }, 'scoring failed; publishing the fallback action');
      return this.fallback('score_error', seq, t0, obsAge);
    } finally {
      this.gate.release();
    }
    if (this.timedOut === seq) return; // the deadline already published the fallback
    // A blocked event loop (a synchronous ORT run, a GC pause) can keep the deadline timer from
    // firing: judge the elapsed time here too, so a late decision is never published as on time.
    if (performance.now() - t0 > this.o.deadlineMs) {
      this.onDeadline();
      return;
    }
    if (!outputsFinite(rewards, st.count)) return this.fallback('non_finite_output', seq, t0, obsAge);
    const best = this.o.policy(rewards, st.count);
    if (best < 0) return this.fallback('non_finite_output', seq, t0, obsAge);
    const d = st.names.length;
    for (let j = 0; j < d; j++) st.action[st.names[j]!] = st.values[best * d + j]!;
    this.stats.decisions++;
    this.stats.lastFallback = undefined;
    dt.rewards = rewards;
    dt.best = best;
    this.publish(seq, t0, st.action, rewards[best]!, obsAge, undefined);
  }

  private onDeadline(): void {
    const seq = this.armed;
    if (seq === 0 || this.inFlight === undefined) return;
    this.timedOut = seq;
    this.stats.deadlineMisses++;
    missDeadline.inc();
    warn('deadline', { seq, deadline_ms: this.o.deadlineMs }, 'a decision missed its deadline; publishing the fallback action');
    this.fallback('deadline', seq, this.tickStart, null);
  }

  private fallback(reason: FallbackReason, seq: number, t0: number, obsAge: number | null): void {
    if (this.armed !== seq) return; // this tick already ended (deadline fired)
    this.stats.fallbacks++;
    this.stats.lastFallback = reason;
    countFallback(reason);
    this.detail.best = -1;
    this.publish(seq, t0, this.o.fallback, null, obsAge, reason);
  }

  private publish(seq: number, t0: number, action: Record<string, number>, reward: number | null, obsAge: number | null, reason: FallbackReason | undefined): void {
    this.armed = 0;
    const ms = performance.now() - t0;
    const msg = this.last;
    msg.t = this.o.clock();
    msg.seq = seq;
    msg.action = action;
    msg.reward = reward;
    msg.model = this.modelId;
    msg.latency_ms = ms;
    msg.obs_age_ms = obsAge;
    msg.fallback = reason;
    for (let i = 0; i < this.o.sinks.length; i++) {
      try {
        this.o.sinks[i]!.publish(msg);
      } catch (e) {
        warn('sink', { err: describeError(e) }, 'an action sink threw; the action was not delivered there');
      }
    }
    for (let i = 0; i < this.taps.length; i++) {
      try {
        this.taps[i]!.decision(msg, this.detail);
      } catch (e) {
        warn('tap', { err: describeError(e) }, 'a decision tap threw; it missed this tick');
      }
    }
    this.latency.push(ms);
    latencyHist.observe(ms / 1000);
    this.stats.lastDoneAt = performance.now();
  }

  private noteModel(id: string): void {
    if (id === this.modelId) return;
    if (this.modelId) modelInfo.remove(this.modelId);
    this.modelId = id;
    modelInfo.labels(id).set(1);
    log.info({ model: id }, `deciding with model ${id}`);
  }
}
