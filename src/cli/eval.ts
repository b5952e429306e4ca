/**
 * `edgereward eval fidelity --model A --teacher B --data FILE [--json]`: how faithfully a
 * (compressed) model reproduces its teacher's decisions on a simulator dataset — top-1 agreement,
 * Spearman over each state's candidates, regret in true reward, absolute reward error.
 */
import type { Command } from 'commander';
import { positiveInt, quietLogs } from './common.js';

interface FidelityOpts { model: string; teacher: string; data: string; json?: boolean; trust?: string; maxStates?: string }

export function register(program: Command): void {
  const ev = program.command('eval').description('compare models on recorded decisions');
  ev.command('fidelity')
    .description('top-1 agreement, Spearman, regret and reward error of a model against its teacher on a dataset (`sim dataset`)')
    .requiredOption('--model <file>', 'the model under test: a bundle or .onnx file')
    .requiredOption('--teacher <file>', 'the reference model: a bundle or .onnx file')
    .requiredOption('--data <file>', 'a dataset written by `edgereward sim dataset`')
    .option('--max-states <n>', 'use only the first n states')
    .option('--trust <dir>', 'also verify bundles\' signatures against these public keys')
    .option('--json', 'print the figures as JSON')
    .action(async (o: FidelityOpts) => {
      await quietLogs(); // stdout carries the figures
      const maxStates = o.maxStates === undefined ? undefined : positiveInt('--max-states', o.maxStates);
      const { fidelityReport, formatFidelity } = await import('../train/fidelity.js');
      const r = await fidelityReport({ model: o.model, teacher: o.teacher, data: o.data, trust: o.trust, maxStates });
      process.stdout.write((o.json ? JSON.stringify(r) : formatFidelity(r)) + '\n');
    });
}
