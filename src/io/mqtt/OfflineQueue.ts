/**
 * The bounded outgoing queue used while the broker is unreachable. MQTT.js's own offline
 * queue is unbounded and replays hours-old messages on reconnect (MQTT.js#397, #1121): ours
 * caps the count and bytes, drops the oldest when full, and expires each message after its
 * own `maxAgeMs`, so a reconnect sends only what is still worth sending — in order.
 *
 * A small long-lived data structure: the clock is passed in, so tests need no timers.
 */
export interface QueuedMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  properties?: Record<string, unknown> | undefined;
  /** unix ms when queued */
  at: number;
  /** expires at `at + maxAgeMs` */
  maxAgeMs: number;
}

export interface OfflineQueueOptions {
  /** most messages held (default 100) */
  maxMessages: number;
  /** most payload bytes held (default 1 MiB) */
  maxBytes: number;
  /** default per-message max age, ms (default 5000) */
  maxAgeMs: number;
}

export const DEFAULT_OFFLINE_QUEUE: OfflineQueueOptions = { maxMessages: 100, maxBytes: 1 << 20, maxAgeMs: 5000 };

export type DropReason = 'overflow' | 'expired' | 'too_large';

export class OfflineQueue {
  private items: QueuedMessage[] = [];
  private bytes = 0;
  readonly opts: OfflineQueueOptions;
  /** called once per dropped message */
  onDrop: (reason: DropReason, m: QueuedMessage) => void = () => {};

  constructor(opts: Partial<OfflineQueueOptions> = {}) {
    this.opts = { ...DEFAULT_OFFLINE_QUEUE, ...opts };
    if (!(this.opts.maxMessages >= 0)) throw new RangeError('"queue.maxMessages" must be >= 0');
  }

  get length(): number {
    return this.items.length;
  }
  get size(): number {
    return this.bytes;
  }

  /** Queue a message (expiring the stale ones first); returns false when it was dropped at once. */
  push(m: QueuedMessage, now: number): boolean {
    this.expire(now);
    if (m.maxAgeMs <= 0 || this.opts.maxMessages === 0 || m.payload.length > this.opts.maxBytes) {
      this.onDrop(m.maxAgeMs <= 0 ? 'expired' : 'too_large', m);
      return false;
    }
    while (this.items.length >= this.opts.maxMessages || this.bytes + m.payload.length > this.opts.maxBytes) {
      const old = this.items.shift()!;
      this.bytes -= old.payload.length;
      this.onDrop('overflow', old);
    }
    this.items.push(m);
    this.bytes += m.payload.length;
    return true;
  }

  /** Drop every message older than its max age. */
  expire(now: number): number {
    let n = 0;
    // Ages differ per message, so scan all (the queue is small by construction).
    if (this.items.length === 0) return 0;
    const keep: QueuedMessage[] = [];
    for (const m of this.items) {
      if (now - m.at >= m.maxAgeMs) {
        this.bytes -= m.payload.length;
        this.onDrop('expired', m);
        n++;
      } else keep.push(m);
    }
    if (n > 0) this.items = keep;
    return n;
  }

  /** Take every message still fresh, oldest first, leaving the queue empty. */
  drain(now: number): QueuedMessage[] {
    this.expire(now);
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    return out;
  }

  /** Forget everything (counted as expired). */
  clear(): void {
    for (const m of this.items) this.onDrop('expired', m);
    this.items = [];
    this.bytes = 0;
  }
}
