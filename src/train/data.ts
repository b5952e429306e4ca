/**
 * The simulator's dataset (docs/dataset.md) as training input: observation features per state,
 * the candidates' action columns once, the true rewards; splits that keep episodes whole so the
 * validation states come from worlds the model never saw.
 */
import { stateInputs, type Dataset } from '../sim/dataset.js';
import { mulberry32 } from '../sim/rng.js';
import type { GroupedSet } from './groups.js';
import { selectStates } from './groups.js';

/** The dataset as a grouped set (no copy of the per-state arrays). */
export function groupedFromDataset(ds: Dataset): GroupedSet {
  const k = ds.candidateCount;
  const f = ds.featureDim;
  const d = ds.meta.featureMap.length;
  const actDim = d - f;
  const act = new Float32Array(k * actDim);
  if (ds.states > 0) {
    // The action columns as the model sees them, computed by the dataset's own helper.
    const rows = stateInputs(ds, 0);
    for (let c = 0; c < k; c++) act.set(rows.subarray(c * d + f, (c + 1) * d), c * actDim);
  }
  return { states: ds.states, k, obsDim: f, actDim, obs: ds.features, act, rewards: ds.rewards };
}

/**
 * Train/validation split by episode: a seeded `fraction` of the episodes (at least one) goes to
 * validation.
 */
export function splitByEpisode(ds: Dataset, fraction: number, seed: number): { train: GroupedSet; validation: GroupedSet; validationEpisodes: number } {
  const all = groupedFromDataset(ds);
  const episodes = [...new Set(ds.episode)].sort((a, b) => a - b);
  const rng = mulberry32(seed);
  for (let i = episodes.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [episodes[i], episodes[j]] = [episodes[j]!, episodes[i]!];
  }
  const nVal = Math.max(1, Math.min(episodes.length - 1, Math.round(episodes.length * fraction)));
  const val = new Set(episodes.slice(0, nVal));
  const tr: number[] = [];
  const va: number[] = [];
  for (let i = 0; i < ds.states; i++) (val.has(ds.episode[i]!) ? va : tr).push(i);
  return { train: selectStates(all, tr), validation: selectStates(all, va), validationEpisodes: nVal };
}

export interface DatasetFileSummary {
  out: string;
  episodes: number;
  seed: number;
  states: number;
  candidates: number;
  seconds: number;
  statesPerSecond: number;
  bytes: number;
  outcomes: { goal: number; collision: number; timeout: number };
  behaviours: Record<string, number>;
}

/** Generate a dataset with the simulator (progress on stderr) and write it atomically. */
export async function writeDatasetFile(o: { out: string; episodes: number; seed: number; progress?: boolean }): Promise<DatasetFileSummary> {
  const { generateDataset } = await import('../sim/generate.js');
  const { writeDataset } = await import('../sim/dataset.js');
  const { statSync } = await import('node:fs');
  const { progressBar } = await import('./progress.js');
  const bar = await progressBar('episodes', o.episodes, { enabled: o.progress !== false, fields: 'states {states}' });
  const { dataset, stats } = generateDataset({
    episodes: o.episodes,
    seed: o.seed,
    onProgress: (p) => bar.update(p.episode, { states: p.states }),
  });
  bar.stop();
  await writeDataset(o.out, dataset);
  return {
    out: o.out,
    episodes: stats.episodes,
    seed: o.seed,
    states: stats.states,
    candidates: dataset.candidateCount,
    seconds: stats.seconds,
    statesPerSecond: stats.statesPerSecond,
    bytes: statSync(o.out).size,
    outcomes: stats.outcomes,
    behaviours: stats.behaviours,
  };
}
