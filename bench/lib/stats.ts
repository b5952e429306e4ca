/**
 * Order statistics for the benchmarks. The implementation lives in src/runtime/engine/stats.ts
 * because `edgereward bench` ships in dist/ (built from src/ only); bench scripts import it here.
 */
export { quantile, median, mean, sig } from '../../src/runtime/engine/stats.js';
