/**
 * Every tunable of the reference task in one place, with the defaults the figures in issue 3 were
 * tuned on. A model's feature map scales by some of these (lidar max range, vmax, wmax), so changing
 * them means regenerating data and retraining.
 */
export interface Limits {
  /** m/s; 0 = no reverse (the action grid has none either). */
  vmin: number;
  vmax: number;
  /** rad/s, symmetric. */
  wmax: number;
  /** m/s^2 */
  accel: number;
  /** rad/s^2 */
  alpha: number;
}

export interface LidarConfig {
  beams: number;
  /** radians; 2*PI = full circle. */
  fov: number;
  /** m; a beam that hits nothing reports this. */
  maxRange: number;
}

export interface WorldOptions {
  width: number;
  height: number;
  minObstacles: number;
  maxObstacles: number;
  /** Probability that an obstacle is a circle (else an axis-aligned box). */
  circleProb: number;
  circleRadius: [number, number];
  boxSide: [number, number];
  /** Minimum free gap between two obstacles, and between an obstacle and a wall (m). */
  gap: number;
  /** Minimum start-goal distance (m). */
  startGoalMinDist: number;
  /** Free space required around start and goal, from the robot's centre (m). */
  startGoalClearance: number;
}

export interface RewardParams {
  /** Rollout length (s). */
  horizon: number;
  /** Rollout integration step (s). */
  substep: number;
  /** Weight of progress, normalised so that vmax straight at the goal for the horizon gives 1. */
  progress: number;
  /** Weight of the heading error in the time-to-go estimate of the progress term. */
  heading: number;
  /** Subtracted when the rollout collides; far larger than every other term together. */
  collision: number;
  /** Weight of the proximity cost, mean over the rollout of ((range - clearance)/range)^2. */
  proximity: number;
  /** Clearance (robot edge to obstacle, m) below which proximity costs. */
  proximityRange: number;
  /** Weight of the effort cost: change from the current velocities, normalised by the limits. */
  effort: number;
  /** Added when the rollout reaches the goal. */
  goalBonus: number;
}

export interface SimConfig {
  robotRadius: number;
  /** Decision period (s): 10 Hz. */
  dt: number;
  goalTolerance: number;
  /** Episode time limit (s). */
  timeLimit: number;
  limits: Limits;
  lidar: LidarConfig;
  world: WorldOptions;
  reward: RewardParams;
  /** Resolution of the obstacle-aware distance-to-goal grid (m). */
  navResolution: number;
}

export const DEFAULT_SIM_CONFIG: SimConfig = Object.freeze({
  robotRadius: 0.2,
  dt: 0.1,
  goalTolerance: 0.3,
  timeLimit: 40,
  limits: { vmin: 0, vmax: 0.6, wmax: 1.5, accel: 1.0, alpha: 3.0 },
  lidar: { beams: 32, fov: 2 * Math.PI, maxRange: 5 },
  world: {
    width: 10,
    height: 10,
    minObstacles: 8,
    maxObstacles: 12,
    circleProb: 0.5,
    circleRadius: [0.25, 0.6],
    boxSide: [0.4, 1.6],
    gap: 0.6,
    startGoalMinDist: 6,
    startGoalClearance: 0.6,
  },
  reward: {
    horizon: 1.0,
    substep: 0.1,
    progress: 1.0,
    heading: 0.5,
    collision: 10,
    proximity: 0.5,
    proximityRange: 0.35,
    effort: 0.05,
    goalBonus: 1.0,
  },
  navResolution: 0.1,
}) as SimConfig;

export type SimConfigInput = {
  [K in keyof SimConfig]?: SimConfig[K] extends object ? Partial<SimConfig[K]> : SimConfig[K];
};

/** The defaults overridden by `over`, one level deep per section. */
export function resolveConfig(over: SimConfigInput = {}): SimConfig {
  const d = DEFAULT_SIM_CONFIG;
  return {
    robotRadius: over.robotRadius ?? d.robotRadius,
    dt: over.dt ?? d.dt,
    goalTolerance: over.goalTolerance ?? d.goalTolerance,
    timeLimit: over.timeLimit ?? d.timeLimit,
    navResolution: over.navResolution ?? d.navResolution,
    limits: { ...d.limits, ...over.limits },
    lidar: { ...d.lidar, ...over.lidar },
    world: { ...d.world, ...over.world } as WorldOptions,
    reward: { ...d.reward, ...over.reward },
  };
}
