/**
 * The simulated robot as an MQTT peer (the embedded demo, the benchmark): it steps the sim in
 * real time every `dt`, publishes `lidar`, `goal` and `odom` on `<prefix>/<device>/sensors/*`
 * (odom last: the demo loop ticks on it), and drives with the latest action it receives on
 * `<prefix>/<device>/action`. No fresh action within `actionMaxAgeMs` -> it stops, like a
 * real motor controller would. An episode that ends (goal, collision, timeout) is counted and
 * the next world (seed + 1) begins.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { createSim, stepSim, type Sim } from './sim.js';
import { observe } from './observe.js';

export interface RobotNodeOptions {
  url: string;
  device: string;
  /** Default `edgereward`. */
  prefix?: string;
  /** World seed of the first episode. Default 1. */
  seed?: number;
  /** An action older than this is ignored (the robot stops). Default 500 ms. */
  actionMaxAgeMs?: number;
  /** Wall-clock ms per sim step; default the sim's dt (real time). */
  stepMs?: number;
}

export interface RobotStats {
  episodes: number;
  goals: number;
  collisions: number;
  timeouts: number;
  steps: number;
  /** Steps driven with a fresh action (the rest stood still). */
  commanded: number;
}

export class SimRobotNode {
  readonly stats: RobotStats = { episodes: 0, goals: 0, collisions: 0, timeouts: 0, steps: 0, commanded: 0 };
  private client: MqttClient | undefined;
  private sim: Sim;
  private seed: number;
  private timer: NodeJS.Timeout | undefined;
  private v = 0;
  private w = 0;
  private actionAt = -Infinity;
  private readonly base: string;

  constructor(private readonly o: RobotNodeOptions) {
    this.seed = o.seed ?? 1;
    this.sim = createSim(this.seed, {}, Date.now());
    this.base = `${o.prefix ?? 'edgereward'}/${o.device}`;
  }

  async start(): Promise<void> {
    const c = await mqtt.connectAsync(this.o.url, { clientId: `edgereward-sim-${this.o.device}-${process.pid}`, reconnectPeriod: 1000, protocolVersion: 4 });
    this.client = c;
    // Three small publishes per step: without TCP_NODELAY the last one waits ~40 ms (Nagle).
    (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    c.on('message', (_topic, payload) => this.onAction(payload));
    await c.subscribeAsync(`${this.base}/action`, { qos: 0 });
    const step = this.o.stepMs ?? this.sim.config.dt * 1000;
    this.publishObservation();
    this.timer = setInterval(() => this.step(), step);
  }

  private onAction(payload: Buffer): void {
    try {
      const m = JSON.parse(payload.toString('utf8')) as { action?: { v?: unknown; w?: unknown } };
      const v = m.action?.v;
      const w = m.action?.w;
      if (typeof v === 'number' && typeof w === 'number' && Number.isFinite(v) && Number.isFinite(w)) {
        this.v = v;
        this.w = w;
        this.actionAt = Date.now();
      }
    } catch {
      // A robot ignores commands it cannot read.
    }
  }

  private step(): void {
    const fresh = Date.now() - this.actionAt <= (this.o.actionMaxAgeMs ?? 500);
    this.stats.steps++;
    if (fresh) this.stats.commanded++;
    const status = stepSim(this.sim, fresh ? this.v : 0, fresh ? this.w : 0);
    if (status !== 'running') {
      this.stats.episodes++;
      if (status === 'goal') this.stats.goals++;
      else if (status === 'collision') this.stats.collisions++;
      else this.stats.timeouts++;
      this.seed++;
      this.sim = createSim(this.seed, {}, Date.now());
      this.v = 0;
      this.w = 0;
      this.actionAt = -Infinity;
    }
    this.publishObservation();
  }

  private publishObservation(): void {
    const c = this.client;
    if (!c?.connected) return;
    // Stamp with the wall clock: the sim clock starts at createSim's Date.now() but steps by dt.
    const obs = observe(this.sim);
    const t = Date.now();
    obs.lidar.t = t;
    obs.goal.t = t;
    obs.odom.t = t;
    c.publish(`${this.base}/sensors/lidar`, JSON.stringify(obs.lidar));
    c.publish(`${this.base}/sensors/goal`, JSON.stringify(obs.goal));
    c.publish(`${this.base}/sensors/odom`, JSON.stringify(obs.odom));
  }

  /** "goals 3 collisions 1 (episode 5)" for the live line. */
  summary(): string {
    const s = this.stats;
    return `goals ${s.goals} collisions ${s.collisions} timeouts ${s.timeouts} (episode ${s.episodes + 1})`;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.client?.endAsync().catch(() => undefined);
    this.client = undefined;
  }
}
