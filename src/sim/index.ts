/**
 * The reference robot task (issue 3): world, kinematics, lidar, true reward, oracle, policies,
 * episodes, the distillation dataset and pictures. Pure TypeScript, deterministic for a seed.
 */
export { mulberry32, deriveSeed, uniform, randInt, gaussian, type Rng } from './rng.js';
export {
  DEFAULT_SIM_CONFIG, resolveConfig,
  type SimConfig, type SimConfigInput, type Limits, type LidarConfig, type WorldOptions, type RewardParams,
} from './config.js';
export { generateWorld, worldClearance, boxDistance, type World, type Circle, type Box, type Pose } from './world.js';
export { collides, robotClearance } from './collision.js';
export { stepState, approach, clamp, wrapAngle, type RobotState } from './kinematics.js';
export { castRay, scanLidar, lidarAngles } from './lidar.js';
export { buildNavField, navDistance, navDescent, type NavField, type NavOptions } from './nav.js';
export {
  createSim, createScene, stepSim, distanceToGoal, DEFAULT_START_MS,
  type Sim, type Scene, type SimStatus,
} from './sim.js';
export { rewardTerms, trueReward, scoreCandidates, argmax, type RewardTerms } from './reward.js';
export {
  DEFAULT_ACTION_GRID, gridCandidates, candidateAt,
  type Action, type ActionGrid, type GridDim,
} from './actions.js';
export { observe, type Observation, type LidarMsg, type OdomMsg, type GoalMsg } from './observe.js';
export {
  features, featuresFromMap, featureMapFor, observationFeatures, candidateFeatures,
  DEFAULT_FEATURE_MAP, FEATURE_DIM, OBS_FEATURE_DIM,
  type FeatureColumn, type ObsColumn, type ActionColumn,
} from './features.js';
export { randomPolicy, straightPolicy, oraclePolicy, scorerPolicy, type Policy, type ScoreFn } from './policies.js';
export {
  runEpisode, evaluate,
  type EpisodeResult, type EpisodeOptions, type EvaluateOptions, type EvaluateResult, type Outcome,
} from './episode.js';
export {
  readDataset, writeDataset, encodeDataset, decodeDataset, encodeDatasetHeader, stateInputs,
  DATASET_MAGIC, DATASET_VERSION,
  type Dataset, type DatasetMeta,
} from './dataset.js';
export { generateDataset, type GenerateOptions, type GenerateStats, type Behaviour } from './generate.js';
export { renderEpisodeSvg, colorScale, type RenderOptions } from './render.js';
