/**
 * The freshest value per stream wins: one slot per stream, overwritten on arrival, so a
 * burst of sensor messages never queues up behind the loop (DESIGN.md, real-time rules).
 */
import { type MonoTypeOperatorFunction, tap } from 'rxjs';
import type { StreamValue } from '../runtime/features/assemble.js';
import type { SensorSample } from '../io/messages/sensor.js';

/**
 * A decoded sensor message as the loop sees it (io's SensorSample): `rx` is the local receive
 * time, so ages are measured on our clock, not the sensor's (robot MCUs drift).
 */
export type Sample = Pick<SensorSample, 'stream' | 'rx'> & { msg: StreamValue };

export class LatestValues {
  /** The record `fillFeatures` reads: stream -> latest message. */
  readonly view: Record<string, StreamValue | undefined> = Object.create(null) as Record<string, StreamValue | undefined>;
  private readonly rx: Record<string, number | undefined> = Object.create(null) as Record<string, number | undefined>;

  set(stream: string, value: StreamValue, rxMs: number): void {
    this.view[stream] = value;
    this.rx[stream] = rxMs;
  }

  /** Age of a stream's latest value in ms; Infinity when it never arrived. */
  age(stream: string, now: number): number {
    const r = this.rx[stream];
    return r === undefined ? Infinity : now - r;
  }

  has(stream: string): boolean {
    return this.rx[stream] !== undefined;
  }

  clear(): void {
    for (const k of Object.keys(this.view)) {
      this.view[k] = undefined;
      this.rx[k] = undefined;
    }
  }
}

/** Operator: write every sample into `store` as it passes (the freshest wins). */
export function latestInto<T extends Sample>(store: LatestValues): MonoTypeOperatorFunction<T> {
  return tap((s: T) => store.set(s.stream, s.msg, s.rx));
}
