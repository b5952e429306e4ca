/**
 * Server-sent events to the live pages: a bounded set of clients; a slow client never makes
 * the server queue without bound — frames and status updates it cannot take are dropped for
 * it (the next one replaces them), while the few messages that must arrive (model, events)
 * wait in a small per-client queue.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Client {
  res: ServerResponse;
  blocked: boolean;
  pending: string[];
}

/** Kinds that a blocked client drops (the next one supersedes them). */
const DROPPABLE = new Set(['frame', 'status', 'fleet']);

export class SseHub {
  private readonly clients = new Set<Client>();
  private readonly ping: NodeJS.Timeout;
  readonly stats = { opened: 0, dropped: 0, refused: 0 };

  constructor(private readonly maxClients = 8) {
    this.ping = setInterval(() => {
      for (const c of this.clients) if (!c.blocked) c.res.write(': ping\n\n');
    }, 15_000);
    this.ping.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Take a GET as an event stream; `greet` sends what a new client needs first. Returns false if full. */
  open(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, greet: (send: (kind: string, msg: unknown) => void) => void): boolean {
    if (this.clients.size >= this.maxClients) {
      this.stats.refused++;
      res.writeHead(503, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' }).end(`too many live viewers (${this.maxClients}); close another page and retry\n`);
      return false;
    }
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.socket?.setNoDelay(true);
    res.write('retry: 2000\n\n');
    const c: Client = { res, blocked: false, pending: [] };
    this.clients.add(c);
    this.stats.opened++;
    const drop = (): void => {
      this.clients.delete(c);
    };
    req.on('close', drop);
    res.on('error', drop);
    greet((kind, msg) => this.write(c, kind, line(kind, msg)));
    return true;
  }

  broadcast(kind: string, msg: unknown): void {
    if (this.clients.size === 0) return;
    const l = line(kind, msg);
    for (const c of this.clients) this.write(c, kind, l);
  }

  private write(c: Client, kind: string, l: string): void {
    if (c.blocked) {
      if (DROPPABLE.has(kind)) this.stats.dropped++;
      else if (c.pending.length < 100) c.pending.push(l);
      else c.res.destroy(); // hopelessly behind: let it reconnect and start afresh
      return;
    }
    if (!c.res.write(l)) {
      c.blocked = true;
      c.res.once('drain', () => {
        c.blocked = false;
        const p = c.pending.splice(0);
        for (const x of p) c.res.write(x);
      });
    }
  }

  close(): void {
    clearInterval(this.ping);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}

function line(kind: string, msg: unknown): string {
  return `event: ${kind}\ndata: ${JSON.stringify(msg)}\n\n`;
}
