/**
 * Receiving a bundle: in MQTT chunks (with a bitmap request for what is missing, resumed
 * after a disconnect) or over HTTP(S). Both enforce the size limit before allocating and
 * give up after an overall timeout; MQTT re-requests after `chunkTimeoutMs` without progress.
 */
import type { Subscription } from 'rxjs';
import { EdgeError, describeError } from '../../errors.js';
import type { MqttLink } from '../../io/mqtt/MqttLink.js';
import {
  chunkFilter, hasBit, missingFrom, newBitmap, requestTopic, setBit,
  type Announcement, type ChunkRequest, type FleetScope,
} from './protocol.js';

export type ChunkResult = 'new' | 'duplicate' | 'bad_index' | 'bad_size';

/** Pure: where chunks land, which are still missing. Duplicates and any order are fine. */
export class ChunkAssembler {
  readonly bytes: Buffer;
  readonly have: Uint8Array;
  readonly chunks: number;
  received = 0;
  duplicates = 0;
  bad = 0;

  constructor(readonly size: number, readonly chunkSize: number) {
    this.chunks = Math.ceil(size / chunkSize);
    this.bytes = Buffer.allocUnsafe(size);
    this.have = newBitmap(this.chunks);
  }

  expectedSize(i: number): number {
    return i === this.chunks - 1 ? this.size - i * this.chunkSize : this.chunkSize;
  }

  add(i: number, data: Uint8Array): ChunkResult {
    if (!Number.isInteger(i) || i < 0 || i >= this.chunks) {
      this.bad++;
      return 'bad_index';
    }
    if (data.length !== this.expectedSize(i)) {
      this.bad++;
      return 'bad_size';
    }
    if (hasBit(this.have, i)) {
      this.duplicates++;
      return 'duplicate';
    }
    this.bytes.set(data, i * this.chunkSize);
    setBit(this.have, i);
    this.received++;
    return 'new';
  }

  get complete(): boolean {
    return this.received === this.chunks;
  }

  missing(): number[] {
    return missingFrom(this.have, this.chunks);
  }
}

export interface DownloadStats {
  via: 'mqtt' | 'http';
  bytes: number;
  ms: number;
  chunks: number;
  duplicates: number;
  bad: number;
  requests: number;
  resumes: number;
}

export interface MqttDownloadOptions {
  link: MqttLink;
  scope: FleetScope;
  ann: Announcement;
  device: string;
  /**
   * Re-request the missing chunks after this long without a chunk; the wait doubles after
   * each unanswered request (up to 4x), so a broker busy fanning a bundle out to a large fleet
   * is not answered with a storm of repeat requests. Default 3000.
   */
  chunkTimeoutMs?: number;
  /** Give up after this long. Default 120000. */
  timeoutMs?: number;
  /** Give up after this many requests in a row without progress. Default 6. */
  maxStalls?: number;
  /** Called when the link came back and the download asked for what is missing. */
  onResume?: (missing: number) => void;
  signal?: AbortSignal;
}

/** Fetch the announced bundle in MQTT chunks. Resolves with the bytes (not yet verified). */
export function downloadMqtt(o: MqttDownloadOptions): Promise<{ bytes: Buffer; stats: DownloadStats }> {
  const { link, ann } = o;
  const chunkTimeoutMs = o.chunkTimeoutMs ?? 3000;
  const maxStalls = o.maxStalls ?? 6;
  const asm = new ChunkAssembler(ann.size, ann.chunk_size);
  const stats: DownloadStats = { via: 'mqtt', bytes: ann.size, ms: 0, chunks: asm.chunks, duplicates: 0, bad: 0, requests: 0, resumes: 0 };
  const t0 = performance.now();
  const reqTopic = requestTopic(o.scope, ann.model, ann.version);
  const id = `${ann.model}@${ann.version}`;

  return new Promise((resolve, reject) => {
    let sub: Subscription | undefined;
    let stallTimer: NodeJS.Timeout | undefined;
    let stalls = 0;
    let done = false;

    const finish = (err: EdgeError | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(stallTimer);
      clearTimeout(overall);
      link.off('connect', onConnect);
      o.signal?.removeEventListener('abort', onAbort);
      sub?.unsubscribe();
      stats.ms = performance.now() - t0;
      stats.duplicates = asm.duplicates;
      stats.bad = asm.bad;
      if (err) reject(err);
      else resolve({ bytes: asm.bytes, stats });
    };

    const request = (): void => {
      const req: ChunkRequest = { device: o.device, have: Buffer.from(asm.have).toString('base64'), n: asm.chunks, chunk_size: ann.chunk_size, sha256: ann.sha256 };
      stats.requests++;
      link.publish(reqTopic, JSON.stringify(req), { qos: 1, maxAgeMs: chunkTimeoutMs });
    };

    const armStall = (): void => {
      clearTimeout(stallTimer);
      const wait = chunkTimeoutMs * Math.min(4, 2 ** stalls);
      stallTimer = setTimeout(() => {
        if (++stalls > maxStalls) {
          const why = asm.bad > 0 ? `; ${asm.bad} chunks arrived with the wrong size (truncated or foreign)` : '';
          finish(new EdgeError('E_UPDATE_STALLED', `${id}: no new chunk after ${stalls - 1} requests (${asm.received} of ${asm.chunks} received${why}); is \`edgereward fleet serve\` running with this bundle?`, { details: { received: asm.received, chunks: asm.chunks, bad: asm.bad } }));
          return;
        }
        if (link.connected) request();
        armStall();
      }, wait);
    };

    const onConnect = (e: { reconnect: boolean }): void => {
      if (!e.reconnect || done) return;
      stats.resumes++;
      o.onResume?.(asm.chunks - asm.received);
      request();
      armStall();
    };
    const onAbort = (): void => finish(new EdgeError('E_UPDATE_ABORTED', `${id}: the download was abandoned (${describeError(o.signal?.reason)})`));

    const overall = setTimeout(() => {
      finish(new EdgeError('E_UPDATE_TIMEOUT', `${id}: the download did not finish within ${o.timeoutMs ?? 120_000} ms (${asm.received} of ${asm.chunks} chunks); it will be retried`, { details: { received: asm.received, chunks: asm.chunks } }));
    }, o.timeoutMs ?? 120_000);

    link.on('connect', onConnect);
    o.signal?.addEventListener('abort', onAbort);
    const prefixLen = chunkFilter(o.scope, ann.model, ann.version).length - 1;
    sub = link.subscribe$(chunkFilter(o.scope, ann.model, ann.version), { qos: 1 }).subscribe((m) => {
      const i = Number(m.topic.slice(prefixLen));
      const r = asm.add(i, m.payload);
      // Any well-formed chunk (a duplicate too) means the server is sending: not a stall.
      // Asking again while our socket still holds a broadcast would only multiply traffic.
      if (r === 'new' || r === 'duplicate') {
        stalls = 0;
        armStall();
        if (asm.complete) finish(undefined);
      }
    });
    // Same connection, so the broker handles our SUBSCRIBE before this request.
    if (link.connected) request();
    armStall();
  });
}

export interface HttpDownloadOptions {
  url: string;
  size: number;
  maxBytes: number;
  /** Abort when no body bytes arrive for this long. Default 10000. */
  chunkTimeoutMs?: number;
  timeoutMs?: number;
  what: string;
}

/** Fetch a bundle over HTTP(S) with Node's fetch; resumes once with a Range request. */
export async function downloadHttp(o: HttpDownloadOptions): Promise<{ bytes: Buffer; stats: DownloadStats }> {
  const t0 = performance.now();
  const out = Buffer.allocUnsafe(o.size);
  let got = 0;
  let requests = 0;
  const deadline = AbortSignal.timeout(o.timeoutMs ?? 120_000);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3 && got < o.size; attempt++) {
    requests++;
    const idle = new AbortController();
    let idleTimer = setTimeout(() => idle.abort(), o.chunkTimeoutMs ?? 10_000);
    try {
      const headers: Record<string, string> = got > 0 ? { range: `bytes=${got}-` } : {};
      const res = await fetch(o.url, { headers, signal: AbortSignal.any([deadline, idle.signal]) });
      if (got > 0 && res.status !== 206) got = 0; // no range support: start over
      else if (!res.ok) throw new EdgeError('E_UPDATE_HTTP', `${o.what}: ${o.url} answered HTTP ${res.status}`);
      const len = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(len) && got + len > o.maxBytes) {
        throw new EdgeError('E_UPDATE_TOO_LARGE', `${o.what}: ${o.url} sends ${got + len} bytes, over the limit of ${o.maxBytes} (updates.maxBundleBytes)`);
      }
      if (!res.body) throw new EdgeError('E_UPDATE_HTTP', `${o.what}: ${o.url} sent no body`);
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (got + part.length > o.size) {
          throw new EdgeError('E_UPDATE_SIZE', `${o.what}: ${o.url} sent more than the announced ${o.size} bytes; the announcement and the file differ`);
        }
        out.set(part, got);
        got += part.length;
        idleTimer.refresh();
      }
    } catch (e) {
      if (e instanceof EdgeError) throw e;
      lastErr = e;
      if (deadline.aborted) break;
    } finally {
      clearTimeout(idleTimer);
      idleTimer = undefined as unknown as NodeJS.Timeout;
    }
  }
  if (got < o.size) {
    throw new EdgeError(deadline.aborted ? 'E_UPDATE_TIMEOUT' : 'E_UPDATE_HTTP', `${o.what}: fetched ${got} of ${o.size} bytes from ${o.url} (${describeError(lastErr ?? 'connection closed early')}); it will be retried`);
  }
  return { bytes: out, stats: { via: 'http', bytes: o.size, ms: performance.now() - t0, chunks: 1, duplicates: 0, bad: 0, requests, resumes: requests - 1 } };
}
