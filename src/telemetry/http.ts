/**
 * The loopback HTTP endpoint (node:http, no framework): `/metrics` (Prometheus text),
 * `/healthz` (the process answers) and `/readyz` (model loaded, loop ticking within its
 * deadline, streams fresh: 200 or 503 with the failing checks as JSON).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenHttp } from './listen.js';
import { registry } from './metrics.js';
import { moduleLogger } from './log.js';
import { describeError } from '../errors.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean | string | number>;
}

export interface TelemetryServerOptions {
  host: string;
  /** 0 = a free port. */
  port: number;
  readiness: () => Readiness;
  /** Answers first (the live page: its access rule, pages, event stream); false = not handled. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface TelemetryServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const log = moduleLogger('http');

export async function startTelemetryServer(o: TelemetryServerOptions): Promise<TelemetryServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (o.handle?.(req, res)) return;
    switch (path) {
      case '/metrics':
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(describeError(e)),
        );
        return;
      case '/healthz':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
        return;
      case '/readyz': {
        const r = o.readiness();
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r) + '\n');
        return;
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
    }
  });
  const port = await listenHttp(server, o.port, o.host, log, 'telemetry HTTP server');
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
