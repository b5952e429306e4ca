/** The scoring engine: ORT sessions from config and the batched, allocation-free scorer. */
export { loadSession, type EngineOptions, type GraphOptimization, type LoadedSession } from './session.js';
export { modelLayout, type InputLayout, type ModelLayout } from './layout.js';
export { Scorer, type ScoreResult } from './scorer.js';
export { openScorer, type OpenedModel } from './open.js';
