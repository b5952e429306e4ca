/**
 * The loop's clock: a fixed rate, or one tick per message of a trigger stream.
 * Ticks carry `performance.now()` so latencies are measured on a monotonic clock.
 */
import { Observable, map } from 'rxjs';

export type TickSource = { rateHz: number } | { trigger: Observable<unknown>; idleMs?: number };

/**
 * Fixed-rate ticks that do not drift: tick n is scheduled at start + n·period, and a tick that
 * is already late (the event loop was blocked) is skipped rather than fired in a burst.
 */
export function rateTicks(rateHz: number): Observable<number> {
  if (!(rateHz > 0) || !Number.isFinite(rateHz)) throw new RangeError(`"rateHz" must be a positive number, got ${rateHz}`);
  const period = 1000 / rateHz;
  return new Observable<number>((sub) => {
    const start = performance.now();
    let n = 0;
    let timer: NodeJS.Timeout | undefined;
    const fire = (): void => {
      const now = performance.now();
      sub.next(now);
      // Skip the slots already missed: firing them late would only stack stale decisions.
      n = Math.max(n + 1, Math.floor((now - start) / period) + 1);
      timer = setTimeout(fire, Math.max(0, start + n * period - performance.now()));
    };
    timer = setTimeout(fire, period);
    return () => clearTimeout(timer);
  });
}

/**
 * One tick per trigger message. When the trigger goes quiet for `idleMs` a tick fires anyway,
 * so a dead trigger sensor yields stale-input fallbacks (the robot stops) instead of silence.
 */
export function triggerTicks(trigger: Observable<unknown>, idleMs = 0): Observable<number> {
  if (!(idleMs > 0)) return trigger.pipe(map(() => performance.now()));
  return new Observable<number>((sub) => {
    let last = performance.now();
    const emit = (): void => {
      last = performance.now();
      sub.next(last);
    };
    const s = trigger.subscribe({ next: emit, error: (e: unknown) => sub.error(e), complete: () => sub.complete() });
    const idle = setInterval(() => {
      if (performance.now() - last >= idleMs) emit();
    }, Math.max(1, idleMs / 4));
    return () => {
      clearInterval(idle);
      s.unsubscribe();
    };
  });
}

export function ticks(src: TickSource): Observable<number> {
  if ('rateHz' in src) return rateTicks(src.rateHz);
  return triggerTicks(src.trigger, src.idleMs);
}
