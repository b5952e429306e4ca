/**
 * Progress bars for long work (data generation, training epochs, closed-loop evaluation) on stderr,
 * so stdout keeps the figures. cli-progress draws only on a terminal; without one (CI, logs piped
 * to a file) a line is printed every `everyMs` instead, so a background run still shows life.
 */
import type { SingleBar } from 'cli-progress';

export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export async function progressBar(label: string, total: number, opts: { enabled?: boolean; everyMs?: number; fields?: string } = {}): Promise<Progress> {
  if (opts.enabled === false) return { update() {}, stop() {} };
  const fields = opts.fields ?? '';
  if (process.stderr.isTTY) {
    const { default: cliProgress } = await import('cli-progress');
    const bar: SingleBar = new cliProgress.SingleBar(
      { format: `${label.padEnd(12)} [{bar}] {percentage}% {value}/{total} eta {eta_formatted} ${fields}`, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (v, p) => bar.update(v, p), stop: () => bar.stop() };
  }
  const every = opts.everyMs ?? 15_000;
  const t0 = Date.now();
  let last = t0;
  return {
    update(v, p) {
      const now = Date.now();
      if (now - last < every && v < total) return;
      last = now;
      const tail = p ? ' ' + Object.entries(p).map(([k, x]) => `${k}=${x}`).join(' ') : '';
      process.stderr.write(`${label}: ${v}/${total} (${((100 * v) / Math.max(1, total)).toFixed(0)}%, ${((now - t0) / 1000).toFixed(0)} s)${tail}\n`);
    },
    stop() {},
  };
}
