import { resolveConfig, type SimConfig, type SimConfigInput } from './config.js';
import type { RobotState } from './kinematics.js';
import { stepState } from './kinematics.js';
import { collides } from './collision.js';
import { buildNavField, type NavField } from './nav.js';
import { generateWorld, type World } from './world.js';

/** What the true reward needs: the world, its distance-to-goal field and the parameters. */
export interface Scene {
  config: SimConfig;
  world: World;
  nav: NavField;
}

export type SimStatus = 'running' | 'goal' | 'collision' | 'timeout';

export interface Sim extends Scene {
  state: RobotState;
  /** Seconds since the episode started. */
  time: number;
  steps: number;
  /** Unix ms of the sim clock at time 0. */
  startMs: number;
  status: SimStatus;
}

/** A fixed epoch (2023-11-14), so observations are reproducible; the demo robot passes Date.now(). */
export const DEFAULT_START_MS = 1_700_000_000_000;

export function createScene(world: World, config: SimConfig): Scene {
  const nav = buildNavField(world, {
    res: config.navResolution,
    robotRadius: config.robotRadius,
    margin: config.reward.proximityRange,
  });
  return { config, world, nav };
}

/** A new episode: the world of `seed`, the robot at rest at its start pose. */
export function createSim(seed: number, over: SimConfigInput = {}, startMs = DEFAULT_START_MS): Sim {
  const config = resolveConfig(over);
  const world = generateWorld(seed, config.world);
  const scene = createScene(world, config);
  const { x, y, theta } = world.start;
  return { ...scene, state: { x, y, theta, v: 0, w: 0 }, time: 0, steps: 0, startMs, status: 'running' };
}

export function distanceToGoal(sim: Sim): number {
  return Math.hypot(sim.world.goal.x - sim.state.x, sim.world.goal.y - sim.state.y);
}

/**
 * Applies the command (v, w) for one decision period and returns the new status. Collisions are
 * checked at 5 sub-steps so a fast robot cannot tunnel through a thin box corner.
 */
export function stepSim(sim: Sim, v: number, w: number): SimStatus {
  if (sim.status !== 'running') return sim.status;
  const c = sim.config;
  const sub = 5;
  const s = sim.state;
  for (let i = 0; i < sub; i++) {
    // Sub-stepping the acceleration limit keeps the same ramp as one dt step would.
    stepState(s, v, w, c.dt / sub, c.limits, s);
    if (collides(sim.world, s.x, s.y, c.robotRadius)) {
      sim.status = 'collision';
      break;
    }
  }
  sim.steps++;
  sim.time = sim.steps * c.dt;
  if (sim.status === 'running') {
    if (distanceToGoal(sim) <= c.goalTolerance) sim.status = 'goal';
    else if (sim.time >= c.timeLimit - 1e-9) sim.status = 'timeout';
  }
  return sim.status;
}
