/**
 * HTTP for the live pages: access rule, security headers, the pages and their assets.
 *
 * Access: bound to a loopback address (127.0.0.0/8, ::1, localhost) the pages are open —
 * only this machine can reach them. Bound to anything else, every request except /healthz
 * needs the configured token, whatever its source address (a reverse proxy on the robot
 * would otherwise make remote requests look local): `Authorization: Bearer <token>`, or for a
 * browser's first load `?token=<token>`, which answers with a redirect to the same page
 * without the token in the URL and sets an HttpOnly, SameSite=Strict cookie carrying it for
 * the page's later requests (assets, the event stream).
 *
 * Read-only: GET and HEAD only. Everything is served from the package (no CDN), under a
 * Content-Security-Policy of `default-src 'self'` with no inline script or style.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenHttp } from '../listen.js';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgeError, describeError } from '../../errors.js';
import { moduleLogger } from '../log.js';
import { ICON_SVG, STYLE_CSS, devicePage, fleetPage } from './pages.js';

const log = moduleLogger('web');

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

export const COOKIE = 'edgereward_token';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export interface WebAccess {
  /** Token required on every request but /healthz (bound to a non-loopback address). */
  required: boolean;
  token: string;
}

/** The access rule for a bind address; a non-loopback address without a token is refused. */
export function webAccess(host: string, token: string, what = 'telemetry.token'): WebAccess {
  const required = !isLoopbackHost(host);
  if (required && token.length < 16) {
    throw new EdgeError('E_WEB_TOKEN', `the live pages are bound to ${host}, which is not loopback, so they need a bearer token of at least 16 characters; set ${what} (e.g. \`openssl rand -hex 24\`) or bind to 127.0.0.1`);
  }
  return { required, token };
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function tokenMatches(given: string | undefined, token: string): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(given), digest(token));
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const h = req.headers.cookie;
  if (!h) return undefined;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** Where the compiled browser code is: dist/web (next to this file once built). */
export function assetsDir(): string {
  const here = fileURLToPath(new URL('../../web/', import.meta.url));
  if (existsSync(join(here, 'device.js'))) return here;
  return fileURLToPath(new URL('../../../dist/web/', import.meta.url)); // running from src/ (tsx)
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.html': 'text/html; charset=utf-8' };

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface WebHandlerOptions {
  access: WebAccess;
  page: 'device' | 'fleet';
  /** Extra routes by path (`/live`, `/api/...`). */
  routes: Record<string, Route>;
  /** Override of the compiled browser code's folder (tests). */
  assets?: string;
  /** false: only the access rule (telemetry.web off); the pages answer 404. */
  pages?: boolean;
}

/**
 * A request handler for the pages: returns true when it answered (a page, an asset, a route,
 * or a 401), false to let the host server answer (/metrics, /readyz, /healthz, 404).
 */
export function createWebHandler(o: WebHandlerOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const dir = o.assets ?? assetsDir();
  const cache = new Map<string, Buffer>();
  const html = Buffer.from(o.page === 'device' ? devicePage() : fleetPage());
  const builtin: Record<string, [string, Buffer]> = { 'style.css': ['.css', Buffer.from(STYLE_CSS)], 'icon.svg': ['.svg', Buffer.from(ICON_SVG)] };
  const asset = (name: string): [string, Buffer] | undefined => {
    if (builtin[name]) return builtin[name];
    if (!/^[a-z][a-z0-9-]*\.js$/.test(name)) return undefined;
    let b = cache.get(name);
    if (!b) {
      try {
        b = readFileSync(join(dir, name));
      } catch (e) {
        log.warn({ err: describeError(e), dir }, `live page asset ${name} is missing; build the browser code (npm run build)`);
        return undefined;
      }
      cache.set(name, b);
    }
    return ['.js', b];
  };
  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return false;
    }
    const path = url.pathname;
    if (path === '/healthz') return false;
    if (o.access.required) {
      const q = url.searchParams.get('token') ?? undefined;
      const auth = req.headers.authorization;
      const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
      if (tokenMatches(q, o.access.token) && req.method === 'GET') {
        url.searchParams.delete('token');
        const rest = url.searchParams.toString();
        res.writeHead(303, { ...SECURITY_HEADERS, location: `${path}${rest ? `?${rest}` : ''}`, 'set-cookie': `${COOKIE}=${encodeURIComponent(o.access.token)}; HttpOnly; SameSite=Strict; Path=/`, 'cache-control': 'no-store' }).end();
        return true;
      }
      if (!tokenMatches(bearer, o.access.token) && !tokenMatches(cookieValue(req, COOKIE), o.access.token)) {
        res.writeHead(401, { ...SECURITY_HEADERS, 'www-authenticate': 'Bearer realm="edgereward"', 'content-type': 'text/plain; charset=utf-8' }).end('this edgereward page needs its token: send "Authorization: Bearer <token>", or open the page once with ?token=<token>\n');
        return true;
      }
    }
    if (o.pages === false) return false;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': TYPES['.html']!, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : html);
      return true;
    }
    if (path.startsWith('/app/')) {
      const a = asset(path.slice(5));
      if (!a) return false;
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': TYPES[a[0]]!, 'cache-control': 'no-cache' }).end(req.method === 'HEAD' ? undefined : a[1]);
      return true;
    }
    if (path === '/favicon.ico') {
      res.writeHead(301, { ...SECURITY_HEADERS, location: '/app/icon.svg' }).end();
      return true;
    }
    const route = o.routes[path];
    if (!route) return false;
    route(req, res, url);
    return true;
  };
}

export function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

export interface WebServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** A standalone server for a handler (the fleet page): GET/HEAD only, /healthz, else 404. */
export async function startWebServer(o: { host: string; port: number; handler: (req: IncomingMessage, res: ServerResponse) => boolean; onClose?: () => void }): Promise<WebServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (o.handler(req, res)) return;
    if ((req.url ?? '').split('?')[0] === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
      return;
    }
    res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain' }).end('not found\n');
  });
  const port = await listenHttp(server, o.port, o.host, log, 'web server');
  return {
    port,
    url: pageUrl(o.host, port),
    close: () =>
      new Promise<void>((resolve) => {
        o.onClose?.();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The address to print: a wildcard bind is shown as 127.0.0.1 (what a local browser opens). */
export function pageUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}/`;
}
