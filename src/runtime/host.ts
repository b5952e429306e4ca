/**
 * The model host: owns the active model the decision loop reads once per tick
 * (`current()`, a `ModelSource`), and swaps it safely.
 *
 *   offer(bundle) -> load a second session (warmed up) -> shadow canary: after each of the
 *   next N live ticks scored by the active model, score the same latest inputs with the new
 *   one (off the tick's critical path) -> activate only if its outputs are finite, its p99
 *   fits the budget and (optionally) its top-1 choice agrees with the active model's often
 *   enough -> persist (store.activate) -> swap the pointer between ticks -> probation: the
 *   previous model stays loaded; non-finite outputs or deadline misses over a threshold swap
 *   straight back (and the store rolls back) -> confirmed: release the old session.
 *
 * The host sees live ticks through a thin wrapper around each scorer (`TrackedScorer`): it
 * forwards `scoreBuffers` and, after the result is handed back, notes count, duration and
 * rewards. So the loop needs no change beyond reading its model from the host.
 */
import { EdgeError, describeError } from '../errors.js';
import type { Bundle } from './bundle/format.js';
import { openBundleBytes } from './bundle/create.js';
import type { TrustStore } from './bundle/keys.js';
import type { Manifest } from './bundle/manifest.js';
import { modelId } from './bundle/manifest.js';
import type { CandidateSet } from './features/candidates.js';
import { fillFeatures, type FeaturePlan, type StreamValue } from './features/assemble.js';
import type { EngineOptions } from './engine/session.js';
import type { ModelStore, StoreEntry } from './store/ModelStore.js';
import type { UpdateEventKind } from './updates/protocol.js';
import { codeOf } from './updates/verify.js';
import { moduleLogger } from '../telemetry/log.js';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const log = moduleLogger('host');

/**
 * The part of the engine's `Scorer` the decision loop uses (src/runtime/engine/scorer.ts
 * satisfies it structurally). An interface so the loop depends on a seam, not on a class: the
 * host swaps what sits behind it between ticks.
 */
export interface ScorerLike {
  readonly id: string;
  readonly manifest: Manifest | undefined;
  readonly candidates: CandidateSet | undefined;
  readonly plan: FeaturePlan | undefined;
  /** Preallocated input rows for `count` candidates, one buffer per model input (plan order). */
  inputBuffers(count: number): Float32Array[];
  /** ONE batched run over the buffers; a reused view of `count` rewards. */
  scoreBuffers(count: number): Promise<Float32Array>;
}

/** What the host needs of a scorer: the loop's part, and a release when it is swapped out. */
export interface HostScorer extends ScorerLike {
  release(): Promise<void>;
}

export type ScorerFactory = (b: Bundle) => Promise<HostScorer>;

/** What the loop reads once per tick: a swap between ticks is a pointer change. */
export interface ActiveModel {
  readonly scorer: ScorerLike;
  /** "name@version". */
  readonly id: string;
}

/** Where the loop finds the active model (the model host implements it; tests use a ModelSlot). */
export interface ModelSource {
  current(): ActiveModel | undefined;
}

/** The host's active model: the loop's view plus the bundle's sha256. */
export interface HostedModel extends ActiveModel {
  readonly scorer: TrackedScorer;
  readonly sha256: string;
}

type Tap = (rewards: Float32Array, count: number, ms: number) => void;

/** Forwards to a scorer; tells the host about every batch it scores. */
export class TrackedScorer implements HostScorer {
  tap: Tap | undefined;
  private inflight = 0;
  private idle: (() => void) | undefined;
  constructor(readonly inner: HostScorer) {}
  get id(): string { return this.inner.id; }
  get manifest(): Manifest | undefined { return this.inner.manifest; }
  get candidates(): CandidateSet | undefined { return this.inner.candidates; }
  get plan(): FeaturePlan | undefined { return this.inner.plan; }
  inputBuffers(count: number): Float32Array[] { return this.inner.inputBuffers(count); }
  async scoreBuffers(count: number): Promise<Float32Array> {
    this.inflight++;
    const t0 = performance.now();
    try {
      const r = await this.inner.scoreBuffers(count);
      const tap = this.tap;
      if (tap) tap(r, count, performance.now() - t0);
      return r;
    } finally {
      if (--this.inflight === 0 && this.idle) this.idle();
    }
  }
  /** Release once no call is in flight (the loop may still be scoring a tick with it). */
  async release(): Promise<void> {
    this.tap = undefined;
    if (this.inflight > 0) await new Promise<void>((r) => (this.idle = r));
    await this.inner.release();
  }
}

export interface HostEvent {
  event: UpdateEventKind;
  model: string;
  code?: string;
  reason?: string;
  [figure: string]: unknown;
}

export interface HostOptions {
  store: ModelStore;
  trust: TrustStore;
  /** Builds a scorer from a verified bundle (default: the engine's Scorer with `engine`). */
  createScorer?: ScorerFactory;
  engine?: EngineOptions;
  /** The tick deadline of the loop (ms). */
  deadlineMs: number;
  /** The new model's canary p99 must be ≤ this (ms). Default: deadlineMs / 2. */
  budgetMs?: number;
  /** Live ticks scored by both models before deciding. Default 50. */
  canaryTicks?: number;
  /** Give up on a canary that could not score enough ticks in this long. Default 30000. */
  canaryTimeoutMs?: number;
  /** Minimum top-1 agreement (0–1) with the active model; 0 = not checked. Default 0. */
  agreement?: number;
  /** Ticks after activation during which misbehaviour rolls back. Default 250. */
  probationTicks?: number;
  /** Deadline misses during probation tolerated before rolling back. Default 3. */
  maxMisses?: number;
  /** Non-finite outputs during probation tolerated before rolling back. Default 0. */
  maxNonFinite?: number;
  /** Crash-loop threshold: daemon starts with an unconfirmed model before rolling back. Default 3. */
  maxBoots?: number;
  /** Stored versions kept (besides nothing: active and last-known-good count). Default 3. */
  keep?: number;
  /** Check state.json for a hand-made rollback this often (ms; 0 = never). Default 1000. */
  watchMs?: number;
  onEvent?: (e: HostEvent) => void;
}

interface Canary {
  scorer: HostScorer;
  id: string;
  entry: StoreEntry;
  n: number;
  skipped: number;
  nonFinite: number;
  agree: number;
  compared: number;
  lat: number[];
  busy: boolean;
  done: (r: { ok: true } | { ok: false; code: string; reason: string }) => void;
}

interface Probation {
  ticks: number;
  misses: number;
  nonFinite: number;
  prev: HostedModel | undefined;
}

const percentile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

function argmaxFinite(r: Float32Array, n: number): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = r[i]!;
    if (v > bv) { bv = v; best = i; }
  }
  return best;
}

function allFinite(r: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(r[i]!)) return false;
  return true;
}

export class ModelHost implements ModelSource {
  readonly store: ModelStore;
  private active: HostedModel | undefined;
  private canary: Canary | undefined;
  private probation: Probation | undefined;
  private inputs: { view: Readonly<Record<string, StreamValue | undefined>> } | undefined;
  private readonly o: Required<Omit<HostOptions, 'onEvent' | 'engine' | 'createScorer' | 'budgetMs'>> & Pick<HostOptions, 'onEvent' | 'engine'> & { budgetMs: number };
  private readonly createScorer: ScorerFactory;
  private watchTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Events from before anyone listened (boot rollbacks). */
  private readonly early: HostEvent[] = [];
  private readonly shadowBufs = new Map<HostScorer, Float32Array[]>();

  constructor(o: HostOptions) {
    this.store = o.store;
    this.o = {
      canaryTicks: 50, canaryTimeoutMs: 30_000, agreement: 0, probationTicks: 250, maxMisses: 3, maxNonFinite: 0, maxBoots: 3, keep: 3, watchMs: 1000,
      ...o,
      budgetMs: o.budgetMs ?? o.deadlineMs / 2,
    };
    this.createScorer = o.createScorer ?? (async (b) => {
      const { Scorer } = await import('./engine/scorer.js');
      return Scorer.fromBundle(b, o.engine ?? {});
    });
  }

  /** The model the loop scores this tick with (read once per tick). */
  current(): HostedModel | undefined {
    return this.active;
  }

  /** The latest stream values the shadow canary reads (the daemon's LatestValues). */
  setInputs(latest: { view: Readonly<Record<string, StreamValue | undefined>> }): void {
    this.inputs = latest;
  }

  set onEvent(fn: ((e: HostEvent) => void) | undefined) {
    this.o.onEvent = fn;
    if (fn) for (const e of this.early.splice(0)) fn(e);
  }

  private emit(e: HostEvent): void {
    if (this.o.onEvent) this.o.onEvent(e);
    else this.early.push(e);
  }

  /** Models running right now: the active one and, during a canary, the candidate. */
  get canaryId(): string | undefined {
    return this.canary?.id;
  }

  get inProbation(): boolean {
    return this.probation !== undefined;
  }

  /**
   * Boot: count the start (crash-loop detection), then load the active model, else the
   * last-known-good; when the store has neither (or `seed` is not in it yet) adopt `seed`,
   * the configured bundle file.
   */
  async boot(seed?: string): Promise<HostedModel | undefined> {
    const store = this.store;
    if (seed) {
      const bytes = readSeed(seed);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const inStore = store.state.entries.some((e) => e.sha256 === sha);
      if (!inStore) {
        const b = openBundleBytes(bytes, this.o.trust, seed);
        const e = store.putSync(bytes, { name: b.manifest.name, version: b.manifest.version, sha256: sha });
        store.adoptSync(e);
        log.info({ model: e.id, from: seed }, 'adopted the configured bundle into the model store');
      }
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const choice = store.bootSync(this.o.maxBoots);
      if (choice.rolledBack) {
        this.emit({ event: 'rolled_back', model: choice.rolledBack.from, code: choice.rolledBack.reason === 'crash_loop' ? 'E_HOST_CRASH_LOOP' : 'E_STORE_UNREADABLE', reason: choice.rolledBack.reason, to: choice.rolledBack.to });
      }
      const e = choice.entry;
      if (!e) return undefined;
      try {
        const b = openBundleBytes(store.read(e), this.o.trust, store.pathOf(e));
        const scorer = await this.createScorer(b);
        this.active = { scorer: new TrackedScorer(scorer), id: e.id, sha256: e.sha256 };
        this.startWatch();
        log.info({ model: e.id, confirmed: store.state.confirmed, boots: store.state.boots }, 'loaded the active model from the store');
        return this.active;
      } catch (err) {
        log.error({ model: e.id, err: describeError(err) }, 'the stored model cannot be loaded; trying the last-known-good');
        const to = await store.rollback(`unloadable: ${codeOf(err)}`);
        this.emit({ event: 'rolled_back', model: e.id, code: codeOf(err), reason: describeError(err), to: to?.id ?? null });
        if (!to) return undefined;
      }
    }
    return undefined;
  }

  /** Serialise offers and rollbacks: one swap at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * A verified, stored bundle: load it, canary it, activate it. Resolves with the outcome;
   * never throws for a bad model (the reason goes out as a `rejected` event).
   */
  offer(bundle: Bundle, entry: StoreEntry): Promise<{ ok: true } | { ok: false; code: string; reason: string }> {
    return this.serial(() => this.doOffer(bundle, entry));
  }

  private reject(id: string, code: string, reason: string, extra: Record<string, unknown> = {}): { ok: false; code: string; reason: string } {
    log.warn({ model: id, code, reason }, `rejected ${id}`);
    this.emit({ event: 'rejected', model: id, code, reason, ...extra });
    return { ok: false, code, reason };
  }

  private async doOffer(bundle: Bundle, entry: StoreEntry): Promise<{ ok: true } | { ok: false; code: string; reason: string }> {
    const id = modelId(bundle.manifest);
    if (this.closed) return { ok: false, code: 'E_HOST_CLOSED', reason: 'the host is closed' };
    if (this.active?.sha256 === entry.sha256) return { ok: true };
    let scorer: HostScorer;
    try {
      // Creating an ORT session blocks the event loop for a few ms: start it right after a
      // tick finished, so it falls in the idle gap before the next one.
      if (this.active) await this.afterTick(this.active, 250);
      scorer = await this.createScorer(bundle);
    } catch (e) {
      await this.store.block(entry, codeOf(e));
      return this.reject(id, codeOf(e), describeError(e), { stage: 'load' });
    }
    if (!scorer.plan || !scorer.candidates) {
      await scorer.release();
      return this.reject(id, 'E_HOST_NO_FEATURES', `${id} has no feature map or action space`);
    }
    if (this.active) {
      const verdict = await this.runCanary(scorer, id, entry);
      if (!verdict.ok) {
        await scorer.release().catch(() => undefined);
        await this.store.block(entry, verdict.code);
        return this.reject(id, verdict.code, verdict.reason, verdict.figures);
      }
    }
    // Persist first, then swap: a crash in between boots the new (unconfirmed) model.
    await this.store.activate(entry);
    const prev = this.active;
    if (this.probation?.prev) {
      // A probation still running: its fallback is superseded by the model now active.
      const old = this.probation.prev;
      this.probation = undefined;
      void old.scorer.release().catch(() => undefined);
    }
    const next: HostedModel = { scorer: new TrackedScorer(scorer), id, sha256: entry.sha256 };
    this.active = next; // the swap: the loop reads it at its next tick
    if (prev) prev.scorer.tap = undefined;
    this.emit({ event: 'activated', model: id, previous: prev?.id ?? null });
    log.info({ model: id, previous: prev?.id }, `activated ${id}`);
    this.startProbation(next, prev);
    return { ok: true };
  }

  /** Resolves just after the active model scored a tick (or after `maxWaitMs`). */
  private afterTick(m: HostedModel, maxWaitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const prev = m.scorer.tap;
      const done = (): void => {
        clearTimeout(timer);
        if (m.scorer.tap === tap) m.scorer.tap = prev;
        resolve();
      };
      const tap: Tap = (r, n, ms) => {
        prev?.(r, n, ms);
        done();
      };
      const timer = setTimeout(done, maxWaitMs);
      m.scorer.tap = tap;
    });
  }

  private runCanary(scorer: HostScorer, id: string, entry: StoreEntry): Promise<{ ok: true } | { ok: false; code: string; reason: string; figures?: Record<string, unknown> }> {
    const active = this.active!;
    return new Promise((resolve) => {
      const c: Canary = { scorer, id, entry, n: 0, skipped: 0, nonFinite: 0, agree: 0, compared: 0, lat: [], busy: false, done: () => undefined };
      const timer = setTimeout(() => {
        c.done({ ok: false, code: 'E_CANARY_TIMEOUT', reason: `${id} could be compared on only ${c.n} of ${this.o.canaryTicks} live ticks within ${this.o.canaryTimeoutMs} ms (${c.skipped} ticks had missing or non-finite inputs for it)` });
      }, this.o.canaryTimeoutMs);
      c.done = (r) => {
        clearTimeout(timer);
        if (this.canary === c) this.canary = undefined;
        if (active.scorer.tap === tap) active.scorer.tap = undefined;
        const window = c.lat.slice(-this.o.canaryTicks);
        const p50 = percentile(window, 0.5);
        const p99 = percentile(window, 0.99);
        const figures = { ticks: c.n, skipped: c.skipped, non_finite: c.nonFinite, p50_ms: round3(p50), p99_ms: round3(p99), budget_ms: this.o.budgetMs, agreement: c.compared > 0 ? round3(c.agree / c.compared) : null, min_agreement: this.o.agreement || null, against: active.id };
        this.emit({ event: 'canary', model: id, passed: r.ok, ...figures });
        resolve(r.ok ? r : { ...r, figures });
      };
      const tap: Tap = (rewards, count) => {
        if (c.busy || count !== active.scorer.candidates?.count) return;
        // Read the active model's choice now: `rewards` is a reused view.
        const best = allFinite(rewards, count) ? argmaxFinite(rewards, count) : -1;
        c.busy = true;
        setImmediate(() => void this.shadowTick(c, active, best));
      };
      this.canary = c;
      active.scorer.tap = tap;
    });
  }

  private async shadowTick(c: Canary, active: HostedModel, activeBest: number): Promise<void> {
    try {
      if (this.canary !== c) return;
      const cands = c.scorer.candidates!;
      let bufs = this.shadowBufs.get(c.scorer);
      if (!bufs) this.shadowBufs.set(c.scorer, (bufs = c.scorer.inputBuffers(cands.count)));
      const view = this.inputs?.view;
      if (!view) { c.skipped++; return; }
      const t0 = performance.now();
      const bad = fillFeatures(c.scorer.plan!, view, cands, bufs);
      if (bad > 0) { c.skipped++; return; }
      const r = await c.scorer.scoreBuffers(cands.count);
      const ms = performance.now() - t0;
      if (this.canary !== c) return;
      c.n++;
      c.lat.push(ms);
      if (!allFinite(r, cands.count)) c.nonFinite++;
      else if (activeBest >= 0) {
        const mine = argmaxFinite(r, cands.count);
        const a = active.scorer.candidates!;
        if (sameAction(a, activeBest, cands, mine)) c.agree++;
        c.compared++;
      }
      if (c.nonFinite > 0) {
        c.done({ ok: false, code: 'E_CANARY_NONFINITE', reason: `${c.id} produced non-finite rewards (NaN or infinity) on a live tick; the active model ${active.id} keeps running` });
      } else if (c.n >= this.o.canaryTicks) {
        // p99 over the last window only: a one-off stall of a shared CPU (GC, another
        // process) right after loading should not sink a model that is fast, so a slow
        // verdict is only final when a second window is slow too.
        const window = c.lat.slice(-this.o.canaryTicks);
        const p99 = percentile(window, 0.99);
        if (p99 > this.o.budgetMs && c.n < 2 * this.o.canaryTicks) return;
        const agreement = c.compared > 0 ? c.agree / c.compared : 1;
        if (p99 > this.o.budgetMs) {
          c.done({ ok: false, code: 'E_CANARY_SLOW', reason: `${c.id} scores a tick in ${round3(p99)} ms at p99, over the budget of ${this.o.budgetMs} ms (updates.canary.budgetMs); the active model ${active.id} keeps running` });
        } else if (this.o.agreement > 0 && agreement < this.o.agreement) {
          c.done({ ok: false, code: 'E_CANARY_AGREEMENT', reason: `${c.id} picks the same action as ${active.id} on ${(agreement * 100).toFixed(1)} % of ticks, under the required ${(this.o.agreement * 100).toFixed(1)} % (updates.canary.agreement)` });
        } else c.done({ ok: true });
      }
    } catch (e) {
      c.done({ ok: false, code: codeOf(e), reason: `${c.id} failed to score a live tick: ${describeError(e)}` });
    } finally {
      c.busy = false;
    }
  }

  private startProbation(next: HostedModel, prev: HostedModel | undefined): void {
    const p: Probation = { ticks: 0, misses: 0, nonFinite: 0, prev };
    this.probation = p;
    const count = next.scorer.candidates?.count;
    next.scorer.tap = (rewards, n, ms) => {
      if (this.probation !== p || n !== count) return;
      p.ticks++;
      if (ms > this.o.deadlineMs) p.misses++;
      if (!allFinite(rewards, n)) p.nonFinite++;
      if (p.nonFinite > this.o.maxNonFinite) {
        this.probation = undefined;
        void this.serial(() => this.revert(next, 'E_HOST_NONFINITE', `${next.id} produced non-finite rewards after activation`, p));
      } else if (p.misses > this.o.maxMisses) {
        this.probation = undefined;
        void this.serial(() => this.revert(next, 'E_HOST_DEADLINE', `${next.id} missed the ${this.o.deadlineMs} ms deadline ${p.misses} times in its first ${p.ticks} ticks`, p));
      } else if (p.ticks >= this.o.probationTicks) {
        this.probation = undefined;
        next.scorer.tap = undefined;
        void this.serial(async () => {
          await this.store.confirm();
          this.emit({ event: 'confirmed', model: next.id, ticks: p.ticks, misses: p.misses });
          if (prev) await prev.scorer.release().catch(() => undefined);
          const pruned = await this.store.prune(this.o.keep);
          if (pruned.length) log.info({ pruned }, 'pruned old model versions');
        });
      }
    };
  }

  /** Swap back to the model that ran before `bad` (still loaded during probation). */
  private async revert(bad: HostedModel, code: string, reason: string, p: Probation): Promise<void> {
    bad.scorer.tap = undefined;
    let target = p.prev;
    const to = await this.store.rollback(code);
    if (!target && to) target = await this.load(to);
    if (!target) {
      log.error({ model: bad.id, code }, `${reason}, and there is no last-known-good to roll back to; it keeps running`);
      this.emit({ event: 'rejected', model: bad.id, code: 'E_HOST_NO_ROLLBACK', reason: `${reason}; no last-known-good to roll back to` });
      return;
    }
    this.active = target;
    this.emit({ event: 'rolled_back', model: bad.id, code, reason, to: target.id });
    log.error({ from: bad.id, to: target.id, code }, `${reason}; rolled back to ${target.id}`);
    await bad.scorer.release().catch(() => undefined);
  }

  private async load(e: StoreEntry): Promise<HostedModel> {
    const b = openBundleBytes(this.store.read(e), this.o.trust, this.store.pathOf(e));
    return { scorer: new TrackedScorer(await this.createScorer(b)), id: e.id, sha256: e.sha256 };
  }

  /**
   * Go back to the last-known-good now (fleet revocation, a hand-made rollback already in the
   * store). Returns the model now active, or undefined when there was nothing to go back to.
   */
  rollback(reason: string, code = 'E_HOST_ROLLBACK'): Promise<string | undefined> {
    return this.serial(async () => {
      const bad = this.active;
      if (!bad) return undefined;
      const p = this.probation;
      this.probation = undefined;
      if (p?.prev) {
        await this.revert(bad, code, reason, p);
        return this.active?.id;
      }
      const to = await this.store.rollback(code);
      if (!to) return undefined;
      const target = await this.load(to);
      this.active = target;
      this.emit({ event: 'rolled_back', model: bad.id, code, reason, to: target.id });
      await bad.scorer.release().catch(() => undefined);
      return target.id;
    });
  }

  /** Follow a change of state.json made by another process (`edgereward rollback`). */
  private startWatch(): void {
    if (this.o.watchMs <= 0 || this.watchTimer) return;
    this.watchTimer = setInterval(() => {
      void this.serial(async () => {
        let changed: boolean;
        try { changed = this.store.reload(); } catch { return; }
        const want = this.store.state.active;
        if (!changed || !want || want.sha256 === this.active?.sha256) return;
        const bad = this.active;
        try {
          const target = await this.load(want);
          this.probation = undefined;
          this.active = target;
          this.emit({ event: 'rolled_back', model: bad?.id ?? '', code: 'E_HOST_MANUAL', reason: 'the active model was changed in the store by hand (edgereward rollback)', to: target.id });
          if (bad) await bad.scorer.release().catch(() => undefined);
        } catch (e) {
          log.error({ model: want.id, err: describeError(e) }, 'the store names an active model that cannot be loaded; keeping the running one');
        }
      });
    }, this.o.watchMs);
    this.watchTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchTimer);
    this.canary?.done({ ok: false, code: 'E_HOST_CLOSED', reason: 'the daemon is stopping' });
    await this.queue;
    const all = [this.active, this.probation?.prev].filter((x): x is HostedModel => x !== undefined);
    this.active = undefined;
    await Promise.allSettled(all.map((m) => m.scorer.release()));
  }
}

function sameAction(a: CandidateSet, i: number, b: CandidateSet, j: number): boolean {
  if (a === b || (a.names.length === b.names.length && a.names.every((n, k) => n === b.names[k]))) {
    const d = a.names.length;
    for (let k = 0; k < d; k++) if (Math.abs(a.values[i * d + k]! - b.values[j * d + k]!) > 1e-6) return false;
    return true;
  }
  return false;
}

const round3 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

function readSeed(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EdgeError('E_MODEL_READ', `cannot read the configured bundle ${path} (${describeError(e)}); check model.bundle`, { cause: e });
  }
}

