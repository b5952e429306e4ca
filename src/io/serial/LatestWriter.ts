/**
 * Writes to a stream with backpressure and a bound of ONE pending message: while the stream
 * wants us to wait (`write()` returned false, no `drain` yet), a new message replaces the
 * pending one — the newest action wins, nothing queues up behind a slow or stuck port.
 */
import type { Writable } from 'node:stream';

export type WriteResult = 'written' | 'pending' | 'replaced' | 'dropped';

export class LatestWriter {
  private target: Writable | undefined;
  private waiting = false;
  private pending: Buffer | undefined;
  private readonly onDrain = () => this.flush();
  /** called when a message is lost: replaced by a newer one, or no port to write to */
  onDrop: (reason: 'replaced' | 'closed') => void = () => {};

  /** Point at a (new) stream, or at nothing while the port is away. */
  attach(target: Writable | undefined): void {
    this.target?.off('drain', this.onDrain);
    this.target = target;
    this.waiting = false;
    if (this.pending) {
      this.pending = undefined;
      this.onDrop('closed');
    }
  }

  get blocked(): boolean {
    return this.waiting;
  }

  write(buf: Buffer): WriteResult {
    const t = this.target;
    if (!t || t.destroyed || !t.writable) {
      this.onDrop('closed');
      return 'dropped';
    }
    if (this.waiting) {
      const replaced = this.pending !== undefined;
      if (replaced) this.onDrop('replaced');
      this.pending = buf;
      return replaced ? 'replaced' : 'pending';
    }
    if (!t.write(buf)) {
      this.waiting = true;
      t.once('drain', this.onDrain);
    }
    return 'written';
  }

  private flush(): void {
    this.waiting = false;
    const p = this.pending;
    this.pending = undefined;
    if (p) this.write(p);
  }
}
