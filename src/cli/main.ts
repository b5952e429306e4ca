#!/usr/bin/env node
/**
 * `edgereward` — one file per subcommand in this folder; each exports `register(program)`.
 * Subcommand files stay thin and import heavy modules (training, compression) lazily inside
 * their action, so `edgereward run` never loads them (the daemon's memory budget).
 */
import { Command } from 'commander';
import { RUNTIME_VERSION } from '../version.js';
import { EdgeError } from '../errors.js';

type Register = (program: Command) => void;

// Only the daemon logs to stdout; every other command keeps stdout for its results.
if (process.argv[2] !== 'run' && process.env['EDGEREWARD_LOG_FD'] === undefined) process.env['EDGEREWARD_LOG_FD'] = '2';

const program = new Command('edgereward')
  .description('Learned reward models on edge robots: compress them, run them, hot-swap them.')
  .version(RUNTIME_VERSION);

const commands: Array<Promise<{ register: Register }>> = [
  // one line per subcommand file (keep sorted)
  import('./bench.js'),
  import('./bundle.js'),
  import('./compress.js'),
  import('./config.js'),
  import('./fleet.js'),
  import('./eval.js'),
  import('./inspect.js'),
  import('./keys.js'),
  import('./replay.js'),
  import('./rollback.js'),
  import('./run.js'),
  import('./score.js'),
  import('./sim.js'),
];

async function main(): Promise<void> {
  for (const c of await Promise.all(commands)) c.register(program);
  await program.parseAsync(process.argv);
}

main().catch((e: unknown) => {
  if (e instanceof EdgeError) {
    process.stderr.write(`edgereward: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`edgereward: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
