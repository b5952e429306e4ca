/**
 * What `edgereward run` starts, in order: the embedded broker (when mqtt.broker is
 * "embedded"), the daemon, and the simulated robot (when demo.robot is set), and how it all
 * stops again (robot, daemon — which publishes its offline status — then the broker).
 */
import type { EdgeConfig } from '../config/schema.js';
import { Daemon } from '../agent/daemon.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { SimRobotNode } from '../sim/robot-node.js';
import type { LiveSnapshot } from '../telemetry/live.js';

export interface Stack {
  daemon: Daemon;
  broker: EmbeddedBroker | undefined;
  robot: SimRobotNode | undefined;
  /** A snapshot for the live line (ticks/s over the time since the previous call). */
  snapshot(): LiveSnapshot;
  stop(): Promise<void>;
}

export async function startStack(cfg: EdgeConfig): Promise<Stack> {
  const broker = cfg.mqtt.broker === 'embedded' ? await startEmbeddedBroker() : undefined;
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(cfg, broker ? { mqttUrl: broker.url } : {});
  } catch (e) {
    await broker?.close();
    throw e;
  }
  let robot: SimRobotNode | undefined;
  if (cfg.demo.robot) {
    robot = new SimRobotNode({ url: broker?.url ?? cfg.mqtt.url, device: cfg.device.id, prefix: cfg.mqtt.prefix, seed: cfg.demo.seed });
    await robot.start();
  }
  let lastT = performance.now();
  let lastTicks = 0;
  let rate = 0;
  let stopping: Promise<void> | undefined;
  return {
    daemon,
    broker,
    robot,
    snapshot() {
      const now = performance.now();
      const s = daemon.loop.stats;
      if (now - lastT >= 200) {
        rate = ((s.ticks - lastTicks) * 1000) / (now - lastT);
        lastT = now;
        lastTicks = s.ticks;
      }
      const [p50, p99] = daemon.loop.latency.percentiles([0.5, 0.99]);
      const last = daemon.loop.last;
      return {
        ticksPerSec: rate,
        p50Ms: p50!,
        p99Ms: p99!,
        model: daemon.models.current()?.id ?? '',
        action: last.seq > 0 ? last.action : undefined,
        fallback: last.fallback,
        fallbacks: s.fallbacks,
        misses: s.deadlineMisses,
        ...(robot ? { extra: robot.summary() } : {}),
      };
    },
    stop() {
      stopping ??= (async () => {
        await robot?.stop();
        await daemon.stop();
        await broker?.close();
      })();
      return stopping;
    },
  };
}
