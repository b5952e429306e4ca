/**
 * Loading order: schema defaults < config file (`--config`) < environment (`EDGEREWARD_*`) <
 * flags. Each layer is applied explicitly (convict's own env/argv reading is off) so we know
 * where every value came from and can say so when it is wrong.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import convict from 'convict';
import { EdgeError, describeError } from '../errors.js';
import { actionObject, PATH_KEYS, schema, type EdgeConfig } from './schema.js';

convict.addFormat({ name: 'object', validate: actionObject });

export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

export interface ConfigProblem {
  /** Dotted key, e.g. `loop.rateHz`. */
  key: string;
  /** What is wrong, as a sentence. */
  message: string;
  source: ConfigSource;
  /** Where: the file, the environment variable or the flag. */
  origin?: string;
}

export interface LoadOptions {
  /** Config file; relative paths inside it are relative to the file. */
  file?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Dotted key -> value (already typed, or strings parsed like environment values). */
  flags?: Record<string, unknown>;
}

export interface Leaf {
  key: string;
  doc: string;
  env: string;
  default: unknown;
  sensitive: boolean;
}

/** Every leaf of the schema, in declaration order (docs, env parsing, suggestions). */
export function leaves(): Leaf[] {
  const out: Leaf[] = [];
  const walk = (node: Record<string, unknown>, path: string[]): void => {
    for (const [k, v] of Object.entries(node)) {
      const n = v as Record<string, unknown>;
      if ('default' in n && 'doc' in n) out.push({ key: [...path, k].join('.'), doc: String(n['doc']), env: String(n['env']), default: n['default'], sensitive: n['sensitive'] === true });
      else walk(n, [...path, k]);
    }
  };
  walk(schema as unknown as Record<string, unknown>, []);
  return out;
}

/** The package's config folder (config/default.json is the embedded demo). */
export function packageConfigDir(): string {
  // dist/config/load.js and src/config/load.ts are both two levels below the package root.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config');
}

export function defaultConfigFile(): string {
  return resolve(packageConfigDir(), 'default.json');
}

/** Parse an environment/flag string the way the leaf's default is typed. */
export function parseValue(leaf: Pick<Leaf, 'key' | 'default'>, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const d = leaf.default;
  const s = raw.trim();
  if (typeof d === 'number') return s === '' ? NaN : Number(s);
  if (typeof d === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(s)) return true;
    if (/^(0|false|no|off)$/i.test(s)) return false;
    return raw;
  }
  if (Array.isArray(d)) {
    if (s.startsWith('[')) return JSON.parse(s) as unknown;
    return s === '' ? [] : s.split(',').map((x) => x.trim()).filter(Boolean);
  }
  if (d !== null && typeof d === 'object') return JSON.parse(s) as unknown;
  return raw;
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = obj;
  for (let i = 0; i < parts.length - 1; i++) o = (o[parts[i]!] ??= {}) as Record<string, unknown>;
  o[parts[parts.length - 1]!] = value;
}

function getPath(obj: unknown, key: string): unknown {
  let o = obj;
  for (const p of key.split('.')) {
    if (o === null || typeof o !== 'object') return undefined;
    o = (o as Record<string, unknown>)[p];
  }
  return o;
}

/** Resolve relative path values of a config file against the file's folder. */
function resolvePaths(obj: Record<string, unknown>, base: string): void {
  const abs = (p: unknown): unknown => (typeof p === 'string' && p !== '' && !isAbsolute(p) && !p.startsWith('/dev/') ? resolve(base, p) : p);
  for (const key of PATH_KEYS) {
    if (key === 'serial.path') continue; // device paths are absolute by nature
    const v = getPath(obj, key);
    if (v === undefined) continue;
    setPath(obj, key, Array.isArray(v) ? v.map(abs) : abs(v));
  }
}

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

export function suggest(key: string): string | undefined {
  let best: string | undefined;
  let bd = Infinity;
  for (const l of leaves()) {
    const dd = distance(key.toLowerCase(), l.key.toLowerCase());
    if (dd < bd) {
      bd = dd;
      best = l.key;
    }
  }
  return bd <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

interface Loaded {
  config: EdgeConfig;
  problems: ConfigProblem[];
  sources: Map<string, { source: ConfigSource; origin?: string }>;
}

function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EdgeError('E_CONFIG_READ', `cannot read the config file ${file} (${describeError(e)}); check the path given to --config`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(describeError(e));
    let where = '';
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos).split('\n');
      where = ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    }
    throw new EdgeError('E_CONFIG_JSON', `the config file ${file} is not valid JSON${where}: ${describeError(e)}`, { cause: e });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new EdgeError('E_CONFIG_JSON', `the config file ${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}

/** Apply all layers; never throws for a bad value (they become problems). */
function build(o: LoadOptions): Loaded {
  const problems: ConfigProblem[] = [];
  const sources = new Map<string, { source: ConfigSource; origin?: string }>();
  const cfg = convict<EdgeConfig>(schema, { env: {}, args: [] });
  const byKey = new Map(leaves().map((l) => [l.key, l]));

  if (o.file) {
    const obj = readJsonFile(o.file);
    resolvePaths(obj, dirname(resolve(o.file)));
    try {
      cfg.load(obj);
    } catch (e) {
      throw new EdgeError('E_CONFIG_INVALID', `the config file ${o.file} has a value that cannot be read: ${describeError(e)}`, { cause: e });
    }
    // convict merges an object value key by key into the default; an action object must replace it.
    for (const l of byKey.values()) {
      const v = getPath(obj, l.key);
      if (v !== undefined && l.default !== null && typeof l.default === 'object' && !Array.isArray(l.default)) cfg.set(l.key as never, v as never);
    }
    const mark = (node: unknown, path: string): void => {
      if (byKey.has(path)) sources.set(path, { source: 'file', origin: o.file! });
      else if (node !== null && typeof node === 'object' && !Array.isArray(node)) for (const [k, v] of Object.entries(node)) mark(v, path ? `${path}.${k}` : k);
      else sources.set(path, { source: 'file', origin: o.file! });
    };
    mark(obj, '');
  }

  const env = o.env ?? process.env;
  for (const l of byKey.values()) {
    const raw = env[l.env];
    if (raw === undefined) continue;
    try {
      cfg.set(l.key as never, parseValue(l, raw) as never);
      sources.set(l.key, { source: 'env', origin: l.env });
    } catch (e) {
      problems.push({ key: l.key, message: `cannot parse ${l.env}=${l.sensitive ? '***' : JSON.stringify(raw)}: ${describeError(e)}`, source: 'env', origin: l.env });
    }
  }

  for (const [key, raw] of Object.entries(o.flags ?? {})) {
    if (raw === undefined) continue;
    const l = byKey.get(key);
    if (!l) {
      const s = suggest(key);
      problems.push({ key, message: `"${key}" is not a setting${s ? ` (did you mean "${s}"?)` : ''}; \`edgereward config schema\` lists them`, source: 'flag' });
      continue;
    }
    try {
      cfg.set(key as never, parseValue(l, raw) as never);
      sources.set(key, { source: 'flag', origin: `--set ${key}` });
    } catch (e) {
      problems.push({ key, message: `cannot parse the value of ${key}: ${describeError(e)}`, source: 'flag' });
    }
  }

  try {
    cfg.validate({ allowed: 'strict' });
  } catch (e) {
    for (const line of describeError(e).split('\n')) problems.push(explainLine(line, sources));
  }
  const config = cfg.getProperties();
  problems.push(...crossChecks(config, sources));
  return { config, problems, sources };
}

/** One convict validation line as a problem an operator can act on. */
function explainLine(line: string, sources: Loaded['sources']): ConfigProblem {
  const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
  if (undeclared) {
    const key = undeclared[1]!;
    const s = suggest(key);
    const src = sources.get(key) ?? { source: 'file' as const };
    return { key, message: `"${key}" is not a setting${s ? ` (did you mean "${s}"?)` : ''}`, ...src };
  }
  const missing = /^configuration param '(.+)' missing from config/.exec(line);
  if (missing) {
    const key = missing[1]!;
    const parent = key.split('.').slice(0, -1).join('.');
    return { key, message: `"${key}" is missing: "${parent}" was given as a value instead of an object of settings`, source: 'file' };
  }
  const m = /^([\w.]+): (.*?)(?:: value was (.*))?$/.exec(line);
  if (m) {
    const key = m[1]!;
    const src = sources.get(key) ?? { source: 'default' as const };
    const val = m[3] !== undefined && m[3].length <= 120 ? ` (got ${m[3]})` : '';
    const msg = m[2]!.replace(/^must be of type (\w+)$/, (_x, t: string) => `must be ${t === 'Boolean' ? 'true or false' : `a ${t.toLowerCase()}`}`);
    return { key, message: `${key} ${msg}${val}`, ...src };
  }
  return { key: '', message: line, source: 'default' };
}

/** Rules that span several settings. */
function crossChecks(c: EdgeConfig, sources: Loaded['sources']): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const at = (key: string): Pick<ConfigProblem, 'source' | 'origin'> => sources.get(key) ?? { source: 'default' };
  const mqttNeeded = c.actions.mqtt || c.streams.some((s) => s.source !== 'serial') || c.score.enabled;
  if (c.mqtt.broker === 'embedded' && !/^mqtt:\/\//.test(c.mqtt.url) && sources.has('mqtt.url')) {
    out.push({ key: 'mqtt.url', message: 'mqtt.url is ignored with the embedded broker (it listens on a free loopback port); remove it or set mqtt.broker to "external"', ...at('mqtt.url') });
  }
  if (mqttNeeded && c.mqtt.broker === 'external' && /^mqtts:/.test(c.mqtt.url) && (c.mqtt.tls.cert === '') !== (c.mqtt.tls.key === '')) {
    const key = c.mqtt.tls.cert === '' ? 'mqtt.tls.key' : 'mqtt.tls.cert';
    out.push({ key, message: 'mqtt.tls.cert and mqtt.tls.key go together: give both for mutual TLS, or neither', ...at(key) });
  }
  if (c.loop.trigger !== '' && !/^[^/+#]{1,128}$/.test(c.loop.trigger)) out.push({ key: 'loop.trigger', message: 'loop.trigger must name one stream', ...at('loop.trigger') });
  if (c.record.enabled && c.record.dir === '') out.push({ key: 'record.dir', message: 'record.enabled is set but record.dir is empty: name the folder for the recordings (run --record DIR)', ...at('record.dir') });
  if (c.record.enabled && c.record.maxTotalBytes < c.record.maxFileBytes) out.push({ key: 'record.maxTotalBytes', message: `record.maxTotalBytes (${c.record.maxTotalBytes}) is smaller than record.maxFileBytes (${c.record.maxFileBytes}); the cap must hold at least one file`, ...at('record.maxTotalBytes') });
  if (c.foxglove.enabled && c.foxglove.token === '' && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(c.foxglove.host)) out.push({ key: 'foxglove.token', message: `foxglove.host ${c.foxglove.host} is not loopback, so the Foxglove server needs foxglove.token (set it through EDGEREWARD_FOXGLOVE_TOKEN)`, ...at('foxglove.host') });
  if (c.telemetry.port >= 0 && c.telemetry.token.length < 16 && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(c.telemetry.host)) out.push({ key: 'telemetry.token', message: `telemetry.host ${c.telemetry.host} is not loopback, so the telemetry port (live page, /metrics) needs telemetry.token of at least 16 characters (set it through EDGEREWARD_TELEMETRY_TOKEN)`, ...at('telemetry.host') });
  if (c.model.bundle === '' && c.model.dir === '') out.push({ key: 'model.bundle', message: 'no model: set model.bundle (a bundle file) or model.dir (the model store)', ...at('model.bundle') });
  return out;
}

/** Load and validate, or throw E_CONFIG_INVALID listing every problem. */
export function loadConfig(o: LoadOptions = {}): EdgeConfig {
  const { config, problems } = build(o);
  if (problems.length > 0) throw new EdgeError('E_CONFIG_INVALID', `the configuration has ${problems.length} problem(s):\n${formatProblems(problems)}`, { details: { problems } });
  return config;
}

/** Validate without throwing for bad values: what `edgereward config check` prints. */
export function checkConfig(o: LoadOptions = {}): { config: EdgeConfig; problems: ConfigProblem[] } {
  const { config, problems } = build(o);
  return { config, problems };
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems
    .map((p) => {
      const from = p.source === 'default' ? '' : ` [from ${p.source === 'file' ? 'file' : p.source === 'env' ? 'environment' : 'flag'}${p.origin ? ` ${p.origin}` : ''}]`;
      return `  - ${p.message}${from}`;
    })
    .join('\n');
}

/** The effective configuration with secrets masked (for logs and `config check --print`). */
export function redact(c: EdgeConfig): EdgeConfig {
  const copy = JSON.parse(JSON.stringify(c)) as EdgeConfig;
  if (copy.mqtt.password) copy.mqtt.password = '***';
  if (copy.telemetry.token) copy.telemetry.token = '***';
  if (copy.foxglove.token) copy.foxglove.token = '***';
  return copy;
}
