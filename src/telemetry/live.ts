/**
 * The one compact live line of `edgereward run`: on a TTY it is redrawn in place a few times a
 * second; elsewhere (journald, a pipe) it is printed as a plain line every few seconds.
 * It is a read-only view: `render()` is given a snapshot function and never touches the loop.
 */
export interface LiveSnapshot {
  ticksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  model: string;
  action: Record<string, number> | undefined;
  fallback: string | undefined;
  fallbacks: number;
  misses: number;
  /** Free-form extra (the demo robot's goals / collisions). */
  extra?: string;
}

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

export function formatLive(s: LiveSnapshot): string {
  const act = s.action ? Object.entries(s.action).map(([k, v]) => `${k}=${fmt(v)}`).join(' ') : '-';
  const parts = [
    `${fmt(s.ticksPerSec, 1)} ticks/s`,
    `p50 ${fmt(s.p50Ms)} ms p99 ${fmt(s.p99Ms)} ms`,
    s.model || 'no model',
    `action ${act}${s.fallback ? ` (fallback: ${s.fallback})` : ''}`,
  ];
  if (s.extra) parts.push(s.extra);
  parts.push(`fallbacks ${s.fallbacks} misses ${s.misses}`);
  return parts.join(' | ');
}

export interface LiveOptions {
  snapshot: () => LiveSnapshot;
  out?: NodeJS.WriteStream;
  /** Redraw in place (TTY) or print a line every `plainEveryMs`. Default: out.isTTY. */
  tty?: boolean;
  ttyEveryMs?: number;
  plainEveryMs?: number;
}

export function startLiveLine(o: LiveOptions): { stop(): void } {
  const out = o.out ?? process.stderr;
  const tty = o.tty ?? out.isTTY === true;
  const every = tty ? (o.ttyEveryMs ?? 250) : (o.plainEveryMs ?? 5000);
  const draw = (): void => {
    const line = formatLive(o.snapshot());
    if (tty) {
      const cols = out.columns ?? 160;
      out.write(`\r\x1b[2K${line.length > cols - 1 ? line.slice(0, cols - 2) + '…' : line}`);
    } else out.write(`${line}\n`);
  };
  const timer = setInterval(draw, every);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (tty) out.write(`\r\x1b[2K${formatLive(o.snapshot())}\n`);
    },
  };
}
