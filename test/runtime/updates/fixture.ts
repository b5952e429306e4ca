/**
 * A small fleet for the update tests: a real mosquitto, a publisher key (trusted by the
 * devices) and a stranger's key, bundles built from tiny real ONNX models, a real fleet
 * server, and devices made of the real parts (MqttLink, ModelStore, ModelHost with the
 * engine's Scorer, the agent's DecisionLoop ticking at 100 Hz, UpdateAgent).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { tmpDir } from '../../helpers/tmp.js';
import { tinyMlp, tinyPart, weights } from '../../helpers/models.js';
import { encodeModel } from '../../../src/compress/onnx/model.js';
import { floatTensor } from '../../../src/compress/onnx/tensor.js';
import { DataType, type IValueInfoProto } from '../../../src/compress/onnx/proto.js';
import { createBundle, type ManifestPart } from '../../../src/runtime/bundle/create.js';
import { generateKeyPair, loadTrustStore, type TrustStore } from '../../../src/runtime/bundle/keys.js';
import { MqttLink } from '../../../src/io/mqtt/MqttLink.js';
import { ModelStore } from '../../../src/runtime/store/ModelStore.js';
import { ModelHost, type HostOptions } from '../../../src/runtime/host.js';
import { UpdateAgent } from '../../../src/runtime/updates/agent.js';
import type { UpdateEvent } from '../../../src/runtime/updates/protocol.js';
import { FleetServer } from '../../../src/fleet/server.js';
import { publishBundle } from '../../../src/fleet/ops.js';
import type { Rollout } from '../../../src/runtime/updates/protocol.js';
import { DecisionLoop } from '../../../src/agent/loop.js';
import { LatestValues } from '../../../src/agent/latest.js';
import { ticks } from '../../../src/agent/tick.js';

interface T {
  teardown(fn: () => unknown): void;
}

/**
 * The loop's deadline in these tests: generous, because several devices share one process on a
 * loaded 2-core test machine; a swap that stalled the loop (a half-loaded model, a blocking
 * load) would still miss it.
 */
const DEADLINE_MS = 250;

export const FLEET = 'test';

function vi(name: string, dims: Array<number | string>): IValueInfoProto {
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** reward = log(x·w) with w = e0: log(odom.v) — NaN once odom.v < 0. */
export function logModel(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'log_of_speed',
      node: [
        { opType: 'MatMul', input: ['x', 'W'], output: ['h'] },
        { opType: 'Log', input: ['h'], output: ['reward'] },
      ],
      initializer: [floatTensor('W', [4, 1], new Float32Array([1, 0, 0, 0]))],
      input: [vi('x', ['batch', 4])],
      output: [vi('reward', ['batch', 1])],
    },
  });
}

/** A chain of `depth` 256×256 MatMuls: a few ms per tick, far over a tiny budget. */
export function slowModel(depth = 8, width = 256): Uint8Array {
  const node = [{ opType: 'MatMul', input: ['x', 'W0'], output: ['h0'] }];
  const init = [floatTensor('W0', [4, width], weights(4 * width, 7))];
  for (let i = 1; i <= depth; i++) {
    node.push({ opType: 'MatMul', input: [`h${i - 1}`, `W${i}`], output: [`h${i}`] });
    init.push(floatTensor(`W${i}`, [width, width], weights(width * width, 7 + i)));
  }
  node.push({ opType: 'MatMul', input: [`h${depth}`, 'Wout'], output: ['reward'] });
  init.push(floatTensor('Wout', [width, 1], weights(width, 99)));
  return encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph: { name: 'slow', node, initializer: init, input: [vi('x', ['batch', 4])], output: [vi('reward', ['batch', 1])] } });
}

export interface World {
  broker: Mosquitto;
  dir: string;
  trustDir: string;
  trust: TrustStore;
  key: string;
  strangerKey: string;
  bundlesDir: string;
  server: FleetServer;
  /** Build a bundle file (tiny MLP unless `model`), returns its path. */
  bundle(version: string, o?: { model?: Uint8Array; part?: Partial<ManifestPart>; key?: string; pad?: number }): string;
  publish(path: string, o?: { rollout?: Rollout; chunkSize?: number; copy?: boolean }): Promise<void>;
}

export async function makeWorld(t: T, o: { server?: boolean } = {}): Promise<World> {
  const broker = await startMosquitto(t);
  const dir = tmpDir(t, 'edgereward-upd-');
  const trustDir = join(dir, 'trust');
  mkdirSync(trustDir);
  const kp = generateKeyPair();
  const stranger = generateKeyPair();
  writeFileSync(join(trustDir, `${kp.keyId}.pub`), kp.publicKeyPem);
  const bundlesDir = join(dir, 'bundles');
  mkdirSync(bundlesDir);
  const server = new FleetServer({ url: broker.url, fleet: FLEET, bundles: bundlesDir, coalesceMs: 20 });
  if (o.server !== false) {
    await server.start();
    t.teardown(() => server.close());
  }
  const w: World = {
    broker, dir, trustDir, trust: loadTrustStore(trustDir), key: kp.privateKeyPem, strangerKey: stranger.privateKeyPem, bundlesDir, server,
    bundle(version, b = {}) {
      const extras = b.pad ? new Map([['pad.bin', new Uint8Array(b.pad).fill(7)]]) : undefined;
      const bytes = createBundle({ model: b.model ?? tinyMlp(), manifest: { ...tinyPart(), version, ...b.part }, privateKeyPem: b.key ?? kp.privateKeyPem, ...(extras ? { extras } : {}) });
      const path = join(dir, `nav-${version}-${Math.random().toString(16).slice(2, 8)}.erwb`);
      writeFileSync(path, bytes);
      return path;
    },
    async publish(path, p = {}) {
      await publishBundle({ url: broker.url, fleet: FLEET, bundle: path, ...(p.copy === false ? {} : { bundles: bundlesDir }), ...(p.rollout ? { rollout: p.rollout } : {}), ...(p.chunkSize ? { chunkSize: p.chunkSize } : {}) });
    },
  };
  return w;
}

export interface Device {
  id: string;
  link: MqttLink;
  host: ModelHost;
  agent: UpdateAgent;
  loop: DecisionLoop;
  latest: LatestValues;
  store: ModelStore;
  events: UpdateEvent[];
  /** Resolves with the first event (seen so far or later) matching. */
  waitEvent(pred: (e: UpdateEvent) => boolean, what: string, timeoutMs?: number): Promise<UpdateEvent>;
  /** Odometry speed the simulated sensor reports (the log model's input). */
  speed: number;
  stop(): Promise<void>;
}

export async function startDevice(t: T, w: World, o: { id: string; seed: string; tags?: string[]; host?: Partial<HostOptions>; streams?: string[]; maxBundleBytes?: number; storeDir?: string }): Promise<Device> {
  const storeDir = o.storeDir ?? join(w.dir, `store-${o.id}`);
  const store = ModelStore.open(storeDir);
  const host = new ModelHost({ store, trust: w.trust, engine: { warmupRuns: 1 }, deadlineMs: DEADLINE_MS, canaryTicks: 10, probationTicks: 20, canaryTimeoutMs: 10_000, watchMs: 100, ...o.host });
  await host.boot(o.seed);
  const latest = new LatestValues();
  host.setInputs(latest);
  const link = new MqttLink({ url: w.broker.url, device: o.id, protocolVersion: 5, reconnect: { minMs: 100, maxMs: 500 }, status: { model: host.current()?.id ?? null } });
  const loop = new DecisionLoop({ models: host, latest, ticks: ticks({ rateHz: 100 }), sinks: [], fallback: { v: 0, w: 0 }, deadlineMs: DEADLINE_MS });
  const agent = new UpdateAgent({ link, host, trust: w.trust, prefix: 'edgereward', fleet: FLEET, device: o.id, tags: o.tags ?? [], streams: new Set(o.streams ?? ['odom', 'goal']), chunkTimeoutMs: 300, maxStalls: 3, timeoutMs: 20_000, retryMs: 500, maxBundleBytes: o.maxBundleBytes ?? 1 << 20 });
  const events: UpdateEvent[] = [];
  const waiters = new Set<() => void>();
  agent.on('event', (e) => {
    events.push(e);
    for (const f of waiters) f();
  });
  const dev: Device = {
    id: o.id, link, host, agent, loop, latest, store, events, speed: 0.5,
    waitEvent(pred, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const e = events.find(pred);
          if (e) {
            waiters.delete(check as () => void);
            clearTimeout(timer);
            resolve(e);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check as () => void);
          reject(new Error(`${o.id}: no ${what} event within ${timeoutMs} ms; events: ${JSON.stringify(events.map((e) => [e.event, e.model, e.code]))}`));
        }, timeoutMs);
        if (!check()) waiters.add(check as () => void);
      });
    },
    async stop() {
      clearInterval(feed);
      await agent.stop();
      await loop.stop();
      await link.close();
      await host.close();
    },
  };
  const feed = setInterval(() => {
    const now = Date.now();
    latest.set('odom', { t: now, v: dev.speed }, now);
    latest.set('goal', { t: now, dx: 3 }, now);
  }, 10);
  await link.whenConnected(5000);
  loop.start();
  agent.start();
  t.teardown(() => dev.stop());
  return dev;
}
