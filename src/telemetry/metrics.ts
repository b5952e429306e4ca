/**
 * The one metrics registry (prom-client). Every module registers its metrics here so a
 * single `/metrics` scrape shows the whole daemon. Names follow Prometheus conventions:
 * `edgereward_<what>_<unit>`.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
let defaults = false;

/** Process metrics (RSS, event-loop lag, GC) — only in the daemon, not in one-shot CLI commands. */
export function enableProcessMetrics(): void {
  if (defaults) return;
  defaults = true;
  collectDefaultMetrics({ register: registry, prefix: 'edgereward_' });
}

function existing<T>(name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export function counter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return existing<Counter<L>>(name) ?? new Counter<L>({ name, help, labelNames, registers: [registry] });
}

export function gauge<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return existing<Gauge<L>>(name) ?? new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

export function histogram<L extends string = string>(
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  return existing<Histogram<L>>(name) ?? new Histogram<L>({ name, help, buckets, labelNames, registers: [registry] });
}
