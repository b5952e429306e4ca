/**
 * `edgereward config check [--config FILE]`: validate a configuration (file + environment +
 * flags, in that order) and explain every problem; `edgereward config schema [--markdown]`:
 * every setting with its default, environment variable and meaning (docs/config.md).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  const cmd = program.command('config').description('check a configuration, or list every setting');
  cmd
    .command('check')
    .description('validate a configuration and explain every error (exit 0 when valid, 2 when not)')
    .option('--config <file>', 'configuration file (default: config/default.json)')
    .option('--print', 'print the effective configuration (secrets masked)')
    .action(async (o: { config?: string; print?: boolean }) => {
      const { checkConfig, defaultConfigFile, formatProblems, redact } = await import('../config/load.js');
      const { isEdgeError } = await import('../errors.js');
      const file = o.config ?? (process.env['EDGEREWARD_CONFIG'] || defaultConfigFile());
      let res;
      try {
        res = checkConfig({ file });
      } catch (e) {
        if (!isEdgeError(e)) throw e;
        process.stderr.write(`${file}: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      if (res.problems.length > 0) {
        process.stderr.write(`${file}: ${res.problems.length} problem(s):\n${formatProblems(res.problems)}\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(`${file}: ok\n`);
      if (o.print) process.stdout.write(JSON.stringify(redact(res.config), null, 2) + '\n');
    });
  cmd
    .command('schema')
    .description('list every setting: key, default, environment variable, meaning')
    .option('--markdown', 'as a Markdown table (docs/config.md)')
    .action(async (o: { markdown?: boolean }) => {
      const { leaves } = await import('../config/load.js');
      const { schemaMarkdown } = await import('../config/doc.js');
      if (o.markdown) {
        process.stdout.write(schemaMarkdown());
        return;
      }
      for (const l of leaves()) process.stdout.write(`${l.key} = ${JSON.stringify(l.default)}  (${l.env})\n    ${l.doc}\n`);
    });
}
