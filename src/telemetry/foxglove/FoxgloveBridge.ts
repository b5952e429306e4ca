/**
 * Foxglove live: the daemon serves the Foxglove WebSocket protocol (`@foxglove/ws-protocol`'s
 * FoxgloveServer over a `ws` server) so Foxglove Studio connects to the robot ("Open
 * connection" -> "Foxglove WebSocket" -> ws://robot:8765) and shows the lidar, pose, goal, the
 * candidate actions with their rewards and the decisions.
 *
 * A read-only view of the loop (DESIGN.md, telemetry): as a decision tap it copies the last
 * decision at most `rateHz` times per second (a few hundred floats) and publishes on
 * setImmediate, off the tick; sensor views are sampled from the latest values on a timer at
 * `rateHz`. A client that cannot keep up (more than `maxBufferedBytes` unsent) is disconnected
 * rather than buffered without bound.
 *
 * Security: loopback by default; on any other address a bearer token is required, sent as
 * `Authorization: Bearer <token>` or, since browsers cannot set WebSocket headers, as
 * `?token=<token>` in the URL (Foxglove Studio: ws://robot:8765/?token=...).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import wsProtocol, { type IWebSocket } from '@foxglove/ws-protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { EdgeError } from '../../errors.js';
import type { CandidateSet } from '../../runtime/features/candidates.js';
import type { ActionMessage } from '../../io/sinks/ActionSink.js';
import type { DecisionDetail } from '../../io/sinks/DecisionTap.js';
import { moduleLogger } from '../log.js';
import { counter, gauge } from '../metrics.js';
import { DEFAULT_GEOMETRY, FOXGLOVE_CHANNELS, candidatesScene, frameTransform, goalPose, laserScan, pose, type FoxgloveGeometry } from './convert.js';

const { FoxgloveServer } = wsProtocol;
const log = moduleLogger('foxglove');
const clientsGauge = gauge('edgereward_foxglove_clients', 'Connected Foxglove clients');
const refused = counter<'reason'>('edgereward_foxglove_refused_total', 'Foxglove connections refused: token, protocol, slow (dropped for not reading)', ['reason']);

/** The parts of the decision loop's tap detail the bridge reads. */
export type BridgeDetail = Pick<DecisionDetail, 'rewards' | 'count' | 'best' | 'candidates'>;

export interface FoxgloveBridgeOptions {
  host?: string;
  /** 0 = a free port. Default 8765. */
  port?: number;
  /** Required when host is not loopback. */
  token?: string;
  /** Most messages per second per channel. Default 10. */
  rateHz?: number;
  /** The loop's latest stream values (read on the sampling timer). */
  latest?: { readonly view: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>> };
  geometry?: Partial<FoxgloveGeometry>;
  name?: string;
  maxBufferedBytes?: number;
}

const DECISIONS_TOPIC = '/decisions';
const decisionChannelSchema = {
  type: 'object',
  properties: { t: { type: 'number' }, seq: { type: 'number' }, model: { type: 'string' }, action: { type: 'object' }, reward: { type: ['number', 'null'] }, best: { type: 'number' }, fallback: { type: ['string', 'null'] }, latency_ms: { type: 'number' }, obs_age_ms: { type: ['number', 'null'] }, rewards: { type: 'array', items: { type: 'number' } } },
};

export function isLoopback(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host);
}

export class FoxgloveBridge {
  readonly url: string;
  readonly port: number;
  private readonly server: InstanceType<typeof FoxgloveServer>;
  private readonly channels = new Map<string, number>();
  private readonly enc = new TextEncoder();
  private readonly g: FoxgloveGeometry;
  private readonly period: number;
  private timer: NodeJS.Timeout | undefined;
  private lastDecisionAt = -Infinity;
  private pending = false;
  private readonly sentT = new Map<string, unknown>();
  // The copy of the last sampled decision (the loop's objects are reused).
  private readonly dec = { t: 0, seq: 0, model: '', action: {} as Record<string, number>, reward: null as number | null, best: -1, fallback: null as string | null, latency_ms: 0, obs_age_ms: null as number | null, count: 0 };
  private rewards = new Float32Array(0);
  private cands: CandidateSet | undefined;

  private constructor(private readonly wss: WebSocketServer, private readonly o: FoxgloveBridgeOptions, server: InstanceType<typeof FoxgloveServer>) {
    this.server = server;
    const a = wss.address() as AddressInfo;
    this.port = a.port;
    this.url = `ws://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    this.g = { ...DEFAULT_GEOMETRY, ...o.geometry };
    this.period = 1000 / (o.rateHz ?? 10);
    for (const c of [...FOXGLOVE_CHANNELS, { topic: DECISIONS_TOPIC, schemaName: 'edgereward.Decision', schema: decisionChannelSchema }]) {
      this.channels.set(c.topic, server.addChannel({ topic: c.topic, encoding: 'json', schemaName: c.schemaName, schema: JSON.stringify(c.schema), schemaEncoding: 'jsonschema' }));
    }
    if (o.latest) {
      this.timer = setInterval(() => this.sampleSensors(), this.period);
      this.timer.unref();
    }
  }

  static async start(o: FoxgloveBridgeOptions = {}): Promise<FoxgloveBridge> {
    const host = o.host ?? '127.0.0.1';
    const token = o.token ?? '';
    if (!isLoopback(host) && token === '') throw new EdgeError('E_FOXGLOVE_TOKEN', `the Foxglove server would listen on ${host}, which is not loopback, without a token; set foxglove.token (EDGEREWARD_FOXGLOVE_TOKEN) or bind it to 127.0.0.1`);
    const server = new FoxgloveServer({ name: o.name ?? 'edgereward', capabilities: [], supportedEncodings: ['json'] });
    server.on('error', (e) => log.warn({ err: e.message }, 'Foxglove protocol error'));
    const maxBuffered = o.maxBufferedBytes ?? 4 * 1024 * 1024;
    const wss = new WebSocketServer({
      host,
      port: o.port ?? 8765,
      handleProtocols: (protocols) => server.handleProtocols(protocols),
      verifyClient: (info: { req: IncomingMessage }) => {
        if (token === '') return true;
        const ok = tokenMatches(info.req, token);
        if (!ok) refused.inc({ reason: 'token' });
        return ok;
      },
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', () => resolve());
      wss.once('error', (e: Error) => reject(new EdgeError('E_FOXGLOVE_LISTEN', `the Foxglove server cannot listen on ${host}:${o.port ?? 8765} (${e.message}); choose another foxglove.port`, { cause: e })));
    });
    wss.on('error', (e: Error) => log.warn({ err: e.message }, 'Foxglove server error'));
    wss.on('connection', (conn: WebSocket, req: IncomingMessage) => {
      if (conn.protocol !== FoxgloveServer.SUPPORTED_SUBPROTOCOL) {
        refused.inc({ reason: 'protocol' });
        conn.close(1002, `expected subprotocol ${FoxgloveServer.SUPPORTED_SUBPROTOCOL}`);
        return;
      }
      const name = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
      clientsGauge.set(wss.clients.size);
      conn.on('close', () => clientsGauge.set(wss.clients.size));
      log.info({ client: name }, 'Foxglove client connected');
      server.handleConnection(conn as unknown as IWebSocket, name);
    });
    const bridge = new FoxgloveBridge(wss, o, server);
    bridge.maxBuffered = maxBuffered;
    log.info({ url: bridge.url, auth: token !== '' }, `Foxglove WebSocket server on ${bridge.url}`);
    return bridge;
  }

  private maxBuffered = 4 * 1024 * 1024;

  /** Decision tap: tick hook unused. */
  tick(): void {}

  /** Decision tap: copy the decision when one is due, publish it off the hot path. */
  decision(m: Readonly<ActionMessage>, d: Readonly<BridgeDetail>): void {
    if (this.wss.clients.size === 0) return;
    const now = performance.now();
    if (now - this.lastDecisionAt < this.period || this.pending) return;
    this.lastDecisionAt = now;
    const c = this.dec;
    c.t = m.t;
    c.seq = m.seq;
    c.model = m.model;
    c.action = { ...m.action };
    c.reward = m.reward;
    c.best = d.best;
    c.fallback = m.fallback ?? null;
    c.latency_ms = m.latency_ms;
    c.obs_age_ms = m.obs_age_ms;
    c.count = d.rewards ? d.count : 0;
    if (this.rewards.length < c.count) this.rewards = new Float32Array(c.count);
    if (d.rewards) this.rewards.set(d.rewards.subarray(0, c.count));
    this.cands = d.candidates;
    this.pending = true;
    setImmediate(this.publishDecision);
  }

  private readonly publishDecision = (): void => {
    this.pending = false;
    const c = this.dec;
    const rewards = Array.from(this.rewards.subarray(0, c.count));
    this.send(DECISIONS_TOPIC, c.t, { t: c.t, seq: c.seq, model: c.model, action: c.action, reward: c.reward, best: c.best, fallback: c.fallback, latency_ms: c.latency_ms, obs_age_ms: c.obs_age_ms, rewards });
    const cs = this.cands;
    if (cs && c.count === cs.count && c.best >= 0) {
      const scene = candidatesScene(c.t, cs.names, cs.values, this.rewards, c.count, c.best, this.g);
      if (scene) this.send('/candidates', c.t, scene);
    }
  };

  private sampleSensors(): void {
    if (this.wss.clients.size === 0 || !this.o.latest) return;
    this.shedSlowClients();
    const v = this.o.latest.view;
    const g = this.g;
    const now = Date.now();
    const lidar = v[g.lidarStream];
    if (lidar && this.changed('/lidar', lidar)) {
      const scan = laserScan(now, lidar, g);
      if (scan) this.send('/lidar', now, scan);
    }
    const odom = v[g.odomStream];
    if (odom && this.changed('/tf', odom)) {
      this.send('/tf', now, frameTransform(now, odom));
      this.send('/pose', now, pose(now, odom));
    }
    const goal = v[g.goalStream];
    if (goal && this.changed('/goal', goal)) this.send('/goal', now, goalPose(now, goal));
  }

  private changed(topic: string, msg: object): boolean {
    if (this.sentT.get(topic) === msg) return false;
    this.sentT.set(topic, msg);
    return true;
  }

  private shedSlowClients(): void {
    for (const c of this.wss.clients) {
      if (c.bufferedAmount > this.maxBuffered) {
        refused.inc({ reason: 'slow' });
        log.warn({ buffered: c.bufferedAmount }, 'a Foxglove client is not reading its messages; disconnecting it');
        c.terminate();
      }
    }
  }

  private send(topic: string, ms: number, data: unknown): void {
    const id = this.channels.get(topic);
    if (id === undefined) return;
    this.server.sendMessage(id, BigInt(Math.round(ms)) * 1_000_000n, this.enc.encode(JSON.stringify(data)));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    clientsGauge.set(0);
  }
}

function tokenMatches(req: IncomingMessage, token: string): boolean {
  const auth = req.headers.authorization;
  let given: string | undefined;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) given = auth.slice(7).trim();
  if (given === undefined) {
    try {
      given = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
    } catch {
      given = undefined;
    }
  }
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
