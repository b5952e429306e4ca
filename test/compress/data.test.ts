/** Calibration/evaluation data: the simulator's binary dataset expands into candidate rows. */
import t from 'tap';
import { join } from 'node:path';
import { readDataset } from '../../src/compress/evaluate/data.js';
import { generateDataset, writeDataset, stateInputs } from '../../src/sim/index.js';
import { tmpDir } from '../helpers/tmp.js';

t.test('a sim dataset reads as one row per candidate, grouped by state', async (t) => {
  const dir = tmpDir(t, 'edgereward-data-');
  const { dataset } = generateDataset({ episodes: 1, seed: 4242 });
  const file = join(dir, 'd.erds');
  await writeDataset(file, dataset);
  const ds = readDataset(file);
  const k = dataset.candidateCount;
  const n = Math.min(dataset.states, 2000);
  t.equal(ds.rows, n * k, 'states × candidates rows');
  const x = ds.inputs['x']!;
  const d = dataset.meta.featureMap.length;
  t.same(x.dims, [n * k, d]);
  const last = n - 1;
  t.same(Array.from(x.data.subarray(last * k * d, (last + 1) * k * d)), Array.from(stateInputs(dataset, last)), "the last state's candidate rows");
});
