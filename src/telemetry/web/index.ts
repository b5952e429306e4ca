/**
 * The live pages, wired for the daemon in two calls (lazily imported by src/agent/daemon.ts):
 *
 *   const tap = liveTap(latest);                 // a decision tap, handed to the loop
 *   const view = startDeviceView(cfg, { tap, loop, models, latest, link });
 *   startTelemetryServer({ ..., handle: view.handler });   // GET / on the telemetry port
 *   ...
 *   view.close();
 */
import type { Observable, Subscription } from 'rxjs';
import type { EdgeConfig } from '../../config/schema.js';
import type { LoopStats } from '../../agent/loop.js';
import type { LatencyRing } from '../../agent/latency.js';
import type { ModelSource } from '../../agent/scorer.js';
import type { StreamValue } from '../../runtime/features/assemble.js';
import { DeviceView, frameStreams } from './device-view.js';
import { webAccess } from './http.js';
import { LiveTap } from './tap.js';

export { DeviceView } from './device-view.js';
export { FleetView } from './fleet-view.js';
export { LiveTap } from './tap.js';
export { createWebHandler, startWebServer, webAccess, isLoopbackHost, pageUrl, CSP } from './http.js';

interface Latest {
  readonly view: Readonly<Record<string, StreamValue | undefined>>;
  age(stream: string, now: number): number;
}

export function liveTap(latest: Latest): LiveTap {
  return new LiveTap({ view: latest.view, streams: frameStreams() });
}

export interface DeviceParts {
  tap: LiveTap;
  loop: { readonly stats: LoopStats; readonly latency: LatencyRing };
  models: ModelSource;
  latest: Latest;
  /** Streams the loop reads (shown in the health table besides the configured ones). */
  streams: Iterable<string>;
  /** The daemon's MQTT link: its state, and its own `events` topic for the event list. */
  link?: { readonly state: string; topic(leaf: string): string; subscribe$(filter: string, o?: { qos?: 0 | 1 | 2 }): Observable<{ payload: Uint8Array }> };
}

/** The device page for a daemon; throws E_WEB_TOKEN when bound beyond loopback without a token. */
export function startDeviceView(cfg: EdgeConfig, p: DeviceParts): DeviceView & { stopEvents(): void } {
  const access = webAccess(cfg.telemetry.host, cfg.telemetry.token);
  const maxAge = new Map(cfg.streams.map((s) => [s.name, s.maxAgeMs ?? cfg.loop.maxAgeMs]));
  const names = [...new Set([...cfg.streams.map((s) => s.name), ...p.streams])];
  const link = p.link;
  const view = new DeviceView({
    device: cfg.device.id,
    deadlineMs: cfg.loop.deadlineMs,
    loop: p.loop,
    models: p.models,
    latest: p.latest,
    streams: names.map((name) => ({ name, maxAgeMs: maxAge.get(name) ?? cfg.loop.maxAgeMs })),
    ...(link ? { mqtt: () => link.state } : {}),
    access,
    maxFps: cfg.telemetry.webFps,
    tap: p.tap,
    pages: cfg.telemetry.web,
  });
  // The device's own update events, from the same topic the fleet reads them on.
  let sub: Subscription | undefined;
  if (link) {
    sub = link.subscribe$(link.topic('events'), { qos: 1 }).subscribe((m) => {
      try {
        view.event(JSON.parse(Buffer.from(m.payload).toString('utf8')) as unknown);
      } catch {
        // not JSON: not an event the page can show
      }
    });
  }
  const close = view.close.bind(view);
  return Object.assign(view, {
    stopEvents: () => sub?.unsubscribe(),
    close: () => {
      sub?.unsubscribe();
      close();
    },
  });
}

export interface FleetPageOptions {
  url: string;
  fleet: string;
  prefix?: string;
  username?: string;
  password?: string;
  /** Bind address (default 127.0.0.1); any other needs `token`. */
  host?: string;
  port: number;
  token?: string;
}

/** The fleet page (`fleet serve --http PORT`): its own read-only MQTT view and HTTP server. */
export async function startFleetPage(o: FleetPageOptions): Promise<{ url: string; port: number; view: import('./fleet-view.js').FleetView; close(): Promise<void> }> {
  const { FleetView } = await import('./fleet-view.js');
  const { startWebServer } = await import('./http.js');
  const host = o.host ?? '127.0.0.1';
  const access = webAccess(host, o.token ?? '', '--http-token (or $EDGEREWARD_FLEET_TOKEN)');
  const view = await new FleetView({ url: o.url, fleet: o.fleet, access, ...(o.prefix ? { prefix: o.prefix } : {}), ...(o.username ? { username: o.username } : {}), ...(o.password ? { password: o.password } : {}) }).start();
  const server = await startWebServer({ host, port: o.port, handler: view.handler });
  return { url: server.url, port: server.port, view, close: async () => { await server.close(); await view.close(); } };
}
