/**
 * Small helpers the subcommand files share: number and list flags, trust stores, quiet logs.
 * Light on purpose (every CLI file imports it at start-up): heavy modules load inside.
 */
import { EdgeError } from '../errors.js';
import type { TrustStore } from '../runtime/bundle/keys.js';

/** Commander collector of a repeatable option (`--trust a --trust b`). */
export function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** An integer flag within [min, max]; E_CLI_ARG otherwise. */
export function intArg(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new EdgeError('E_CLI_ARG', `${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

/** A positive integer flag (threads, counts); E_CLI_ARG otherwise. */
export function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new EdgeError('E_CLI_ARG', `${name} must be a positive integer, got "${v}"`);
  return n;
}

/** A comma-separated flag, items trimmed. */
export function list(v: string): string[] {
  return v.split(',').map((s) => s.trim());
}

/** The trust store of `--trust` (a directory, a key file, or several), undefined when none was given. */
export async function trustArg(paths: string | readonly string[] | undefined): Promise<TrustStore | undefined> {
  if (paths === undefined || paths.length === 0) return undefined;
  const { loadTrustStore } = await import('../runtime/bundle/keys.js');
  return loadTrustStore(typeof paths === 'string' ? paths : [...paths]);
}

/** Commands that print figures on stdout keep the logs to warnings (unless EDGEREWARD_LOG_LEVEL says otherwise). */
export async function quietLogs(): Promise<void> {
  const { log } = await import('../telemetry/log.js');
  if (!process.env['EDGEREWARD_LOG_LEVEL']) log.level = 'warn';
}
