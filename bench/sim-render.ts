/**
 * Draws one episode (issue 3, "a picture"): npx tsx bench/sim-render.ts [seed] [out.svg] [oracle|straight|random]
 * The arcs are always coloured by the true reward, whatever drives.
 * Then e.g. `rsvg-convert out.svg -o out.png` or `convert out.svg out.png`.
 */
import { writeFileSync } from 'node:fs';
import { runEpisode } from '../src/sim/episode.js';
import { oraclePolicy, randomPolicy, straightPolicy } from '../src/sim/policies.js';
import { renderEpisodeSvg } from '../src/sim/render.js';

const seed = Number(process.argv[2] ?? 1001);
const out = process.argv[3] ?? `episode-${seed}.svg`;
const name = process.argv[4] ?? 'oracle';
const policy = name === 'straight' ? straightPolicy() : name === 'random' ? randomPolicy() : oraclePolicy();
const r = await runEpisode(seed, policy, { record: true });
const svg = renderEpisodeSvg(r.sim.world, r.trajectory!, { title: `${policy.name}, world ${seed}: ${r.outcome} in ${r.time.toFixed(1)} s` });
writeFileSync(out, svg);
console.log(`${out}: ${r.outcome} after ${r.time.toFixed(1)} s, ${svg.length} bytes`);
