/**
 * The device side of fleet updates: listens to its fleet's retained model announcements,
 * and for each one that selects this device: check the announcement (size, signature,
 * compatibility) -> download (MQTT chunks or HTTP) -> verify -> store -> hand to the model
 * host (canary, activate). Every step is an event on `<prefix>/<device>/events`.
 * One update at a time; a newer announcement of the same model replaces a waiting one.
 */
import { EventEmitter } from 'node:events';
import type { Subscription } from 'rxjs';
import { describeError } from '../../errors.js';
import type { MqttLink } from '../../io/mqtt/MqttLink.js';
import type { TrustStore } from '../bundle/keys.js';
import { moduleLogger, rateLimitedLog } from '../../telemetry/log.js';
import { counter } from '../../telemetry/metrics.js';
import type { HostEvent, ModelHost } from '../host.js';
import { downloadHttp, downloadMqtt, type DownloadStats } from './download.js';
import { announceFilter, isSelected, parseFleetMessage, type Announcement, type FleetScope, type Revocation, type UpdateEvent } from './protocol.js';
import { checkAnnouncement, codeOf, verifyDownloaded, verifyRevocation } from './verify.js';

const log = moduleLogger('updates');
const warn = rateLimitedLog(log);
const eventsTotal = counter<'event'>('edgereward_update_events_total', 'Model update events (received, verified, rejected, canary, activated, rolled_back, ...)', ['event']);

export interface UpdateAgentOptions {
  link: MqttLink;
  host: ModelHost;
  trust: TrustStore;
  prefix: string;
  fleet: string;
  device: string;
  tags?: string[];
  /** Streams this daemon consumes (compatibility check); undefined = any. */
  streams?: ReadonlySet<string>;
  /** Default 16 MiB. */
  maxBundleBytes?: number;
  chunkTimeoutMs?: number;
  /** Requests without progress before a download is given up (and retried later). Default 6. */
  maxStalls?: number;
  timeoutMs?: number;
  /** Retry a download that failed for a transient reason after this long (ms). Default 30000. */
  retryMs?: number;
  /** Keep this many transient retries per announcement. Default 3. */
  retries?: number;
  /** Called after the active model changed (activated, rolled back): e.g. republish the retained status now. */
  onActiveChange?: (id: string | null) => void;
}

interface Pending {
  ann: Announcement;
  tries: number;
}

/** Codes of transient failures: the same announcement is retried later. */
const TRANSIENT = new Set(['E_UPDATE_TIMEOUT', 'E_UPDATE_STALLED', 'E_UPDATE_HTTP', 'E_UPDATE_ABORTED', 'E_STORE_WRITE', 'E_INTERNAL']);

export class UpdateAgent extends EventEmitter<{ event: [UpdateEvent] }> {
  readonly scope: FleetScope;
  private sub: Subscription | undefined;
  private readonly pending = new Map<string, Pending>();
  private working = false;
  private busyWith: string | undefined;
  private abort: AbortController | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  readonly downloads: DownloadStats[] = [];

  constructor(readonly o: UpdateAgentOptions) {
    super();
    this.scope = { prefix: o.prefix, fleet: o.fleet };
    o.host.onEvent = (e) => this.publish(e);
  }

  start(): this {
    if (this.sub) return this;
    const base = announceFilter(this.scope).length - 1;
    this.sub = this.o.link.subscribe$(announceFilter(this.scope), { qos: 1 }).subscribe((m) => {
      if (m.payload.length === 0) return; // a cleared retained announcement
      const topicModel = m.topic.slice(base);
      try {
        this.onMessage(parseFleetMessage(m.payload, topicModel));
      } catch (e) {
        warn('announce', { topic: m.topic, err: describeError(e) }, 'ignored an invalid model announcement');
        this.publish({ event: 'rejected', model: topicModel, code: codeOf(e), reason: describeError(e) });
      }
    });
    // Retained: tells `fleet status` this device follows the fleet, and with which model.
    this.publish({ event: 'ready', model: this.o.host.current()?.id ?? '', tags: this.o.tags ?? [] });
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sub?.unsubscribe();
    this.sub = undefined;
    for (const t of this.retryTimers) clearTimeout(t);
    this.abort?.abort(new Error('the daemon is stopping'));
    this.pending.clear();
  }

  /** The update in progress ("name@version"), if any. */
  get inProgress(): string | undefined {
    return this.busyWith;
  }

  private onMessage(m: Announcement | Revocation): void {
    const id = `${m.model}@${m.version}`;
    if (m.kind === 'revoke') {
      void this.onRevoke(m);
      return;
    }
    if (!isSelected(m.rollout, this.o.device, this.o.tags ?? [], m.model)) {
      log.debug({ model: id }, 'an announcement not meant for this device');
      return;
    }
    const host = this.o.host;
    if (host.current()?.sha256 === m.sha256) return; // running it already
    if (this.busyWith === id) return; // a re-delivered retained announcement
    const blocked = host.store.isBlocked(m.sha256);
    if (blocked) {
      log.info({ model: id, reason: blocked.reason }, `${id} was refused or rolled back here before (${blocked.reason}); ignoring its announcement`);
      return;
    }
    this.pending.set(m.model, { ann: m, tries: 0 });
    void this.work();
  }

  private async onRevoke(r: Revocation): Promise<void> {
    const id = `${r.model}@${r.version}`;
    try {
      verifyRevocation(r, this.o.trust);
    } catch (e) {
      this.publish({ event: 'rejected', model: id, code: codeOf(e), reason: describeError(e) });
      return;
    }
    const p = this.pending.get(r.model);
    if (p && p.ann.version === r.version) this.pending.delete(r.model);
    if (this.busyWith === id) this.abort?.abort(new Error('the fleet revoked this version'));
    const host = this.o.host;
    for (const e of host.store.state.entries) if (e.id === id && !host.store.isBlocked(e.sha256)) await host.store.block(e, 'revoked');
    if (host.current()?.id === id) {
      const to = await host.rollback(`the fleet revoked ${id} (edgereward fleet rollback)`, 'E_FLEET_REVOKED');
      if (!to) this.publish({ event: 'rejected', model: id, code: 'E_HOST_NO_ROLLBACK', reason: `the fleet revoked ${id}, but this device has no last-known-good to go back to; it keeps running` });
    }
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.stopped && this.pending.size > 0) {
        const [model, p] = this.pending.entries().next().value as [string, Pending];
        this.pending.delete(model);
        await this.update(p);
      }
    } finally {
      this.working = false;
    }
  }

  private async update(p: Pending): Promise<void> {
    const { ann } = p;
    const id = `${ann.model}@${ann.version}`;
    const host = this.o.host;
    const store = host.store;
    const compat = { trust: this.o.trust, maxBundleBytes: this.o.maxBundleBytes ?? 16 << 20, ...(this.o.streams ? { streams: this.o.streams } : {}) };
    this.busyWith = id;
    this.abort = new AbortController();
    try {
      try {
        checkAnnouncement(ann, compat);
      } catch (e) {
        await store.block({ id, sha256: ann.sha256 }, codeOf(e));
        this.publish({ event: 'rejected', model: id, code: codeOf(e), reason: describeError(e), stage: 'announcement' });
        return;
      }
      let entry = store.state.entries.find((e) => e.sha256 === ann.sha256);
      let bytes: Uint8Array;
      if (entry) {
        bytes = store.read(entry);
      } else {
        let got;
        try {
          got = ann.url
            ? await downloadHttp({ url: ann.url, size: ann.size, maxBytes: compat.maxBundleBytes, what: id, ...(this.o.chunkTimeoutMs ? { chunkTimeoutMs: this.o.chunkTimeoutMs } : {}), ...(this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {}) })
            : await downloadMqtt({
                link: this.o.link, scope: this.scope, ann, device: this.o.device, signal: this.abort.signal,
                ...(this.o.chunkTimeoutMs ? { chunkTimeoutMs: this.o.chunkTimeoutMs } : {}),
                ...(this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {}),
                ...(this.o.maxStalls ? { maxStalls: this.o.maxStalls } : {}),
                onResume: (missing) => this.publish({ event: 'resumed', model: id, missing }),
              });
        } catch (e) {
          this.failed(p, e, 'download');
          return;
        }
        const s = got.stats;
        this.downloads.push(s);
        bytes = got.bytes;
        this.publish({ event: 'received', model: id, via: s.via, bytes: s.bytes, ms: Math.round(s.ms), chunks: s.chunks, duplicates: s.duplicates, bad_chunks: s.bad, requests: s.requests, resumes: s.resumes });
      }
      let bundle;
      try {
        bundle = verifyDownloaded(bytes, ann, compat);
      } catch (e) {
        if (!entry) await store.block({ id, sha256: ann.sha256 }, codeOf(e));
        this.publish({ event: 'rejected', model: id, code: codeOf(e), reason: describeError(e), stage: 'verify' });
        return;
      }
      this.publish({ event: 'verified', model: id, key_id: bundle.signature.key_id });
      try {
        entry ??= await store.put(bytes, { name: ann.model, version: ann.version, sha256: ann.sha256 });
      } catch (e) {
        this.failed(p, e, 'store');
        return;
      }
      await host.offer(bundle, entry);
    } finally {
      this.busyWith = undefined;
      this.abort = undefined;
    }
  }

  private failed(p: Pending, e: unknown, stage: string): void {
    const id = `${p.ann.model}@${p.ann.version}`;
    const code = codeOf(e);
    const retry = TRANSIENT.has(code) && p.tries < (this.o.retries ?? 3) && !this.stopped && code !== 'E_UPDATE_ABORTED';
    this.publish({ event: 'rejected', model: id, code, reason: describeError(e), stage, retry });
    if (!retry) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      if (this.stopped || this.pending.has(p.ann.model)) return;
      this.pending.set(p.ann.model, { ann: p.ann, tries: p.tries + 1 });
      void this.work();
    }, this.o.retryMs ?? 30_000);
    t.unref();
    this.retryTimers.add(t);
  }

  /** Publish an event (QoS 1, retained so `fleet status` sees each device's last one). */
  publish(e: HostEvent): void {
    const ev: UpdateEvent = { ...e, t: Date.now(), device: this.o.device, fleet: this.o.fleet, active: this.o.host.current()?.id ?? null };
    eventsTotal.inc({ event: e.event });
    if (e.event === 'rejected' || e.event === 'rolled_back') log.warn(ev, `update ${e.event}: ${e.model}${e.code ? ` (${e.code})` : ''}`);
    else log.info(ev, `update ${e.event}: ${e.model}`);
    this.o.link.publish(this.o.link.topic('events'), JSON.stringify(ev), { qos: 1, retain: true, maxAgeMs: 300_000 });
    this.emit('event', ev);
    if (e.event === 'activated' || e.event === 'rolled_back') this.o.onActiveChange?.(ev.active);
  }
}
