export { DEFAULT_SPACE, candidateKey, randomCandidate, mutate, effectiveHidden, type Candidate, type SearchSpace } from './space.js';
export { dominates, paretoFront, type Tradeoff } from './pareto.js';
export { createEvaluator, rowsDataset, DEFAULT_RUNGS, type Evaluator, type EvaluatorOptions, type Measured, type Rung } from './evaluator.js';
export { searchArchitectures, choose, objectiveOf, costOf, type SearchOptions, type SearchResult, type SearchPoint, type CostKind } from './evolve.js';
