/**
 * Run the real `edgereward` CLI in a child process (its own exit code, stdout, stderr).
 * By default through tsx on the TypeScript sources, so a fresh clone needs no build;
 * `EDGEREWARD_CLI=dist` runs the built `dist/cli/main.js` instead (after `npm run build`).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliResult { code: number; stdout: string; stderr: string }

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const argv = process.env['EDGEREWARD_CLI'] === 'dist'
    ? [join(ROOT, 'dist', 'cli', 'main.js'), ...args]
    : ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env, NO_COLOR: '1' },
      timeout: opts.timeoutMs ?? 60_000,
      maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err); // spawn failure or timeout, not an exit code
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}
