import type { SimConfigInput } from './config.js';
import type { RobotState } from './kinematics.js';
import { observe } from './observe.js';
import type { Policy } from './policies.js';
import { deriveSeed } from './rng.js';
import { createSim, stepSim, type Sim, type SimStatus } from './sim.js';

export type Outcome = Exclude<SimStatus, 'running'>;

export interface EpisodeResult {
  seed: number;
  outcome: Outcome;
  /** Sim seconds until the episode ended. */
  time: number;
  steps: number;
  /** Mean wall-clock time of policy.act (ms, performance.now()). */
  meanLatencyMs: number;
  /** States from start to end (with `record`). */
  trajectory?: RobotState[];
  sim: Sim;
}

export interface EpisodeOptions {
  config?: SimConfigInput;
  record?: boolean;
}

/** Runs one episode of world `seed` under `policy` until goal, collision or the time limit. */
export async function runEpisode(seed: number, policy: Policy, opts: EpisodeOptions = {}): Promise<EpisodeResult> {
  const sim = createSim(seed, opts.config);
  policy.reset?.(deriveSeed(seed, 2));
  const trajectory: RobotState[] | undefined = opts.record ? [{ ...sim.state }] : undefined;
  let latency = 0;
  while (sim.status === 'running') {
    const obs = observe(sim);
    const t0 = performance.now();
    const a = await policy.act(sim, obs);
    latency += performance.now() - t0;
    stepSim(sim, a.v, a.w);
    trajectory?.push({ ...sim.state });
  }
  return {
    seed,
    outcome: sim.status as Outcome,
    time: sim.time,
    steps: sim.steps,
    meanLatencyMs: sim.steps > 0 ? latency / sim.steps : 0,
    ...(trajectory ? { trajectory } : {}),
    sim,
  };
}

export interface EvaluateOptions {
  episodes: number;
  /** Episode i runs world seed + i. */
  seed: number;
  policy: Policy;
  config?: SimConfigInput;
  onEpisode?: (r: EpisodeResult, i: number) => void;
}

export interface EvaluateResult {
  policy: string;
  episodes: number;
  successRate: number;
  collisionRate: number;
  timeoutRate: number;
  /** Mean sim seconds to goal over successful episodes (NaN if none). */
  meanTimeToGoal: number;
  /** Mean decision latency over all decisions (ms). */
  meanLatencyMs: number;
}

/** Closed-loop figures of a policy over seeded episodes. */
export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  let goal = 0;
  let coll = 0;
  let tout = 0;
  let tGoal = 0;
  let lat = 0;
  let decisions = 0;
  for (let i = 0; i < o.episodes; i++) {
    const r = await runEpisode(o.seed + i, o.policy, o.config ? { config: o.config } : {});
    if (r.outcome === 'goal') {
      goal++;
      tGoal += r.time;
    } else if (r.outcome === 'collision') coll++;
    else tout++;
    lat += r.meanLatencyMs * r.steps;
    decisions += r.steps;
    o.onEpisode?.(r, i);
  }
  const n = Math.max(1, o.episodes);
  return {
    policy: o.policy.name,
    episodes: o.episodes,
    successRate: goal / n,
    collisionRate: coll / n,
    timeoutRate: tout / n,
    meanTimeToGoal: goal > 0 ? tGoal / goal : NaN,
    meanLatencyMs: decisions > 0 ? lat / decisions : 0,
  };
}
