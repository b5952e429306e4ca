/**
 * The one logger: pino, JSON lines on stdout (journald stores them as they are).
 * Child loggers carry a `mod` field so an operator can grep one subsystem.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const level = process.env['EDGEREWARD_LOG_LEVEL'] ?? process.env['LOG_LEVEL'] ?? 'info';
// The daemon logs to stdout (journald); one-shot commands set EDGEREWARD_LOG_FD=2 so that
// their printed results (`--json`) stay clean on stdout.
const fd = process.env['EDGEREWARD_LOG_FD'] === '2' ? 2 : 1;

export const log: Logger = pino(
  {
    level,
    base: { svc: 'edgereward' },
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  pino.destination({ fd, sync: fd === 2 }),
);

const children = new Set<Logger>();

export function moduleLogger(mod: string): Logger {
  const child = log.child({ mod });
  children.add(child);
  return child;
}

/** Change the level of the root and every module logger (pino children copy the level at creation). */
export function setLogLevel(level: string): void {
  log.level = level;
  for (const c of children) c.level = level;
}

/**
 * A log-rate limiter for bad input: at most `perInterval` lines per key per interval,
 * then one summary line with how many were suppressed. Never throws, allocates only per key.
 */
export function rateLimitedLog(logger: Logger, intervalMs = 10_000, perInterval = 5) {
  const state = new Map<string, { start: number; n: number; suppressed: number }>();
  return (key: string, fields: Record<string, unknown>, msg: string, now = Date.now()): void => {
    let s = state.get(key);
    if (!s || now - s.start >= intervalMs) {
      if (s && s.suppressed > 0) logger.warn({ key, suppressed: s.suppressed }, `suppressed ${s.suppressed} similar messages: ${key}`);
      s = { start: now, n: 0, suppressed: 0 };
      state.set(key, s);
    }
    if (s.n < perInterval) {
      s.n++;
      logger.warn({ key, ...fields }, msg);
    } else s.suppressed++;
  };
}
