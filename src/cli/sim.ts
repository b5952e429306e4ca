/**
 * `edgereward sim …`: the reference robot task (issue 3).
 *   sim eval    closed-loop figures of a model (or the oracle, random, straight) over seeded episodes
 *   sim dataset states visited by the oracle and noisy policies, with every candidate's true reward
 *   sim render  one episode as an SVG: obstacles, path, goal, lidar, candidates colored by reward
 * Thin: parse, call src/sim and the engine, print. Everything heavy is imported inside the action.
 */
import type { Command } from 'commander';
import { intArg, quietLogs, trustArg } from './common.js';

interface EvalOpts { model?: string; oracle?: boolean; policy?: string; episodes: string; seed: string; json?: boolean; trust?: string; progress?: boolean }
interface DatasetOpts { episodes: string; seed: string; out: string; json?: boolean; progress?: boolean }
interface RenderOpts { model?: string; oracle?: boolean; policy?: string; seed: string; out: string; trust?: string; points?: string }

function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** The policy named by the flags, and a release function for a model's session. */
async function choosePolicy(o: { model?: string; oracle?: boolean; policy?: string; trust?: string }) {
  const { EdgeError } = await import('../errors.js');
  const chosen = [o.model !== undefined, o.oracle === true, o.policy !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new EdgeError('E_CLI_ARG', 'give exactly one of --model <file>, --oracle or --policy random|straight');
  const pol = await import('../sim/policies.js');
  if (o.oracle) return { policy: pol.oraclePolicy(), release: async () => {} };
  if (o.policy !== undefined) {
    if (o.policy === 'random') return { policy: pol.randomPolicy(), release: async () => {} };
    if (o.policy === 'straight') return { policy: pol.straightPolicy(), release: async () => {} };
    if (o.policy === 'oracle') return { policy: pol.oraclePolicy(), release: async () => {} };
    throw new EdgeError('E_CLI_ARG', `--policy must be random, straight or oracle, got "${o.policy}"`);
  }
  const { openScorer } = await import('../runtime/engine/index.js');
  const trust = await trustArg(o.trust);
  const { scorer } = await openScorer(o.model!, { trust, intraOpThreads: 1 });
  try {
    const { modelPolicy } = await import('../sim/model-policy.js');
    return { policy: modelPolicy(scorer), release: () => scorer.release(), scorer };
  } catch (e) {
    await scorer.release();
    throw e;
  }
}

export function register(program: Command): void {
  const sim = program.command('sim').description('the reference robot task: closed-loop evaluation, datasets, pictures');

  sim
    .command('eval')
    .description('run seeded episodes with a model (or --oracle / --policy) and print success, collision, time to goal, decision latency')
    .option('--model <file>', 'a bundle (feature map from its manifest) or an .onnx file taking the simulator\'s 39 features')
    .option('--oracle', 'the argmax of the true reward (the upper bound)')
    .option('--policy <name>', 'a baseline: random or straight')
    .option('--episodes <n>', 'number of episodes', '200')
    .option('--seed <s>', 'episode i runs world seed s + i (the shipped figures use 1000)', '1000')
    .option('--trust <dir>', 'also verify a bundle\'s signature against these public keys')
    .option('--json', 'print the figures as JSON')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: EvalOpts) => {
      await quietLogs(); // stdout carries the figures
      const episodes = intArg('--episodes', o.episodes, 1, 1_000_000);
      const seed = intArg('--seed', o.seed, 0, 0xffffffff - episodes);
      const { evaluate } = await import('../sim/episode.js');
      const { progressBar } = await import('../train/progress.js');
      const { policy, release } = await choosePolicy(o);
      const bar = await progressBar('episodes', episodes, { enabled: o.progress !== false, fields: 'success {success}' });
      let goals = 0;
      try {
        const r = await evaluate({
          episodes,
          seed,
          policy,
          onEpisode: (ep, i) => {
            if (ep.outcome === 'goal') goals++;
            bar.update(i + 1, { success: `${((100 * goals) / (i + 1)).toFixed(1)}%` });
          },
        });
        bar.stop();
        const out = { ...r, seed, meanTimeToGoal: Number.isFinite(r.meanTimeToGoal) ? r.meanTimeToGoal : null };
        if (o.json) {
          process.stdout.write(JSON.stringify(out) + '\n');
        } else {
          process.stdout.write(
            [
              `policy            ${r.policy}`,
              `episodes          ${r.episodes} (world seeds ${seed}..${seed + episodes - 1})`,
              `success rate      ${fmt(100 * r.successRate, 1)}%`,
              `collision rate    ${fmt(100 * r.collisionRate, 1)}%`,
              `timeout rate      ${fmt(100 * r.timeoutRate, 1)}%`,
              `mean time to goal ${fmt(r.meanTimeToGoal, 2)} s`,
              `decision latency  ${fmt(r.meanLatencyMs, 3)} ms (mean per decision)`,
            ].join('\n') + '\n',
          );
        }
      } finally {
        bar.stop();
        await release();
      }
    });

  sim
    .command('dataset')
    .description('generate training data: states visited by the oracle and noisy policies, each with every candidate\'s true reward')
    .requiredOption('--out <file>', 'the dataset file to write (format: docs/dataset.md)')
    .option('--episodes <n>', 'number of episodes', '200')
    .option('--seed <s>', 'base seed', '1')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: DatasetOpts) => {
      const episodes = intArg('--episodes', o.episodes, 1, 1_000_000);
      const seed = intArg('--seed', o.seed, 0, 0xffffffff);
      const { writeDatasetFile } = await import('../train/data.js');
      const s = await writeDatasetFile({ out: o.out, episodes, seed, progress: o.progress !== false });
      if (o.json) process.stdout.write(JSON.stringify(s) + '\n');
      else {
        process.stdout.write(
          `wrote ${s.out}: ${s.states} states × ${s.candidates} candidates from ${s.episodes} episodes (seed ${s.seed}) in ${fmt(s.seconds, 1)} s, ${fmt(s.statesPerSecond, 0)} states/s, ${(s.bytes / 1e6).toFixed(1)} MB\n`,
        );
      }
    });

  sim
    .command('render')
    .description('draw one episode as SVG: obstacles, path, goal, lidar rays and, at a few points, the candidates colored by the model\'s predicted reward')
    .requiredOption('--out <file>', 'the SVG file to write')
    .option('--model <file>', 'a bundle or .onnx model that drives the robot; its predictions color the candidates')
    .option('--oracle', 'drive with the true reward instead (candidates colored by the true reward)')
    .option('--policy <name>', 'or a baseline: random or straight (candidates colored by the true reward)')
    .option('--seed <s>', 'world seed', '1000')
    .option('--points <n>', 'decisions at which the candidates are drawn (evenly spaced)', '3')
    .option('--trust <dir>', 'also verify a bundle\'s signature against these public keys')
    .action(async (o: RenderOpts) => {
      await quietLogs();
      const seed = intArg('--seed', o.seed, 0, 0xffffffff);
      const points = intArg('--points', o.points ?? '3', 1, 12);
      const { runEpisode } = await import('../sim/episode.js');
      const { renderEpisodeSvg } = await import('../sim/render.js');
      const { writeFileSync } = await import('node:fs');
      const { EdgeError, describeError } = await import('../errors.js');
      let policy;
      let release = async (): Promise<void> => {};
      let scores: Float32Array[] | undefined;
      if (o.model !== undefined && !o.oracle) {
        const { openScorer } = await import('../runtime/engine/index.js');
        const trust = await trustArg(o.trust);
        const { scorer } = await openScorer(o.model, { trust, intraOpThreads: 1 });
        release = () => scorer.release();
        const { recordingModelPolicy } = await import('../sim/model-policy.js');
        const p = recordingModelPolicy(scorer);
        scores = p.scores;
        policy = p;
      } else {
        policy = (await choosePolicy(o)).policy;
      }
      try {
        const ep = await runEpisode(seed, policy, { record: true });
        const traj = ep.trajectory!;
        const decisions = Math.max(1, traj.length - 1);
        const at = Array.from({ length: points }, (_, i) => Math.round(((i + 1) * (decisions - 1)) / (points + 1)));
        const svg = renderEpisodeSvg(ep.sim.world, traj, {
          candidatesAt: at,
          ...(scores ? { scores: new Map(at.map((i) => [i, scores![i]!] as const)), scoreLabel: 'predicted reward' } : {}),
          title: `world ${seed}: ${policy.name}, ${ep.outcome} after ${fmt(ep.time, 1)} s`,
        });
        try {
          writeFileSync(o.out, svg);
        } catch (e) {
          throw new EdgeError('E_CLI_WRITE', `cannot write ${o.out} (${describeError(e)}); check the directory`, { cause: e });
        }
        process.stdout.write(`wrote ${o.out}: world ${seed}, ${policy.name}: ${ep.outcome} after ${fmt(ep.time, 1)} s, candidates drawn at decisions ${at.join(', ')}\n`);
      } finally {
        await release();
      }
    });
}
