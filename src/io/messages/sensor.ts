/**
 * Sensor messages: decode + validate untrusted bytes into a flat object of numbers and
 * number arrays. Pure functions (no I/O, no clock unless `now` is omitted), and they never
 * throw: the hot path gets a result object with a reason it can count.
 *
 * A message is a JSON object, `t` = unix ms, other fields numbers or arrays of numbers:
 * lidar `{t, ranges:[…32]}`, odom `{t,x,y,theta,v,w}`, goal `{t,dx,dy,dist,bearing}`,
 * imu `{t,ax,ay,az,gx,gy,gz}`.
 */

/** A decoded, validated sensor message: `t` (unix ms) plus numeric fields. */
export interface SensorMessage {
  t: number;
  [field: string]: number | number[];
}

/** A message as delivered to the loop: which stream, when it arrived (unix ms), the message. */
export interface SensorSample {
  stream: string;
  /** receive timestamp, unix ms (local clock) */
  rx: number;
  msg: SensorMessage;
}

/**
 * What one field must be: `'number'`, `'array'` (of numbers, any length), an array of
 * exactly `n` numbers (`{ array: n }`), or `'any'` (a number or an array: present is enough).
 */
export type FieldSpec = 'number' | 'array' | 'any' | { array: number };

/** Optional per-stream expectations; a stream without a spec only gets the generic checks. */
export interface StreamSpec {
  fields?: Readonly<Record<string, FieldSpec>>;
}

export type RejectReason =
  | 'too_large'
  | 'empty'
  | 'bad_json'
  | 'not_object'
  | 'bad_type'
  | 'non_finite'
  | 'missing_field'
  | 'bad_length'
  | 'bad_time'
  | 'future'
  | 'unknown_stream';

/** Every reason, for tests and for pre-registering metric label values. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'too_large', 'empty', 'bad_json', 'not_object', 'bad_type', 'non_finite', 'missing_field',
  'bad_length', 'bad_time', 'future', 'unknown_stream',
];

export type DecodeResult =
  | { ok: true; msg: SensorMessage }
  | { ok: false; reason: RejectReason; detail: string };

export interface DecodeOptions {
  /** refuse payloads larger than this many bytes before parsing (default 65536) */
  maxBytes?: number;
  /** refuse `t` more than this far ahead of `now` (default 5000 ms: clock skew allowance) */
  maxFutureMs?: number;
  /** the local clock, unix ms (default `Date.now()`) */
  now?: number;
  /** the known streams: when given, a stream not in it is `unknown_stream`; values are specs */
  streams?: ReadonlyMap<string, StreamSpec | undefined>;
  /** the spec for this stream (overrides `streams`' entry) */
  spec?: StreamSpec;
  /** fields to ignore (e.g. the serial envelope's `s`) */
  ignore?: string;
}

export const DEFAULT_MAX_BYTES = 65536;
export const DEFAULT_MAX_FUTURE_MS = 5000;

const decoder = new TextDecoder('utf-8', { fatal: false });

function fail(reason: RejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Decode one payload (MQTT message body, serial JSON line) for `stream`.
 * `1e999` parses to Infinity and is refused as `non_finite` (JSON itself cannot carry NaN).
 */
export function decodeSensor(stream: string, bytes: Uint8Array | string, opts: DecodeOptions = {}): DecodeResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > maxBytes) return fail('too_large', `${size} bytes, limit ${maxBytes}`);
  if (size === 0) return fail('empty', 'empty payload');
  if (opts.streams && !opts.streams.has(stream) && opts.spec === undefined) return fail('unknown_stream', `stream "${stream.slice(0, 64)}" is not configured`);
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : decoder.decode(bytes));
  } catch (e) {
    return fail('bad_json', e instanceof Error ? e.message.slice(0, 120) : 'unparseable');
  }
  return validateSensor(stream, value, opts);
}

/** Validate an already-parsed value (CSV rows and binary frames arrive as objects). */
export function validateSensor(stream: string, value: unknown, opts: DecodeOptions = {}): DecodeResult {
  if (opts.streams && !opts.streams.has(stream) && opts.spec === undefined) return fail('unknown_stream', `stream "${stream.slice(0, 64)}" is not configured`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not_object', `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  const obj = value as Record<string, unknown>;
  const ignore = opts.ignore;
  for (const k in obj) {
    if (k === ignore) continue;
    const v = obj[k];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return fail('non_finite', `field "${k}" is not finite`);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x !== 'number') return fail('bad_type', `field "${k}[${i}]" is ${x === null ? 'null' : typeof x}, expected a number`);
        if (!Number.isFinite(x)) return fail('non_finite', `field "${k}[${i}]" is not finite`);
      }
    } else {
      return fail('bad_type', `field "${k.slice(0, 64)}" is ${v === null ? 'null' : typeof v}, expected a number or an array of numbers`);
    }
  }
  const t = obj['t'];
  if (t === undefined) return fail('missing_field', 'field "t" (unix ms) is missing');
  if (typeof t !== 'number' || t < 0) return fail('bad_time', 'field "t" must be a non-negative number of unix ms');
  const now = opts.now ?? Date.now();
  const maxFuture = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  if (t - now > maxFuture) return fail('future', `t is ${Math.round(t - now)} ms ahead of the local clock (limit ${maxFuture} ms)`);
  const spec = opts.spec ?? opts.streams?.get(stream);
  if (spec?.fields) {
    for (const name in spec.fields) {
      const want = spec.fields[name]!;
      const v = obj[name];
      if (v === undefined) return fail('missing_field', `field "${name}" is missing`);
      if (want === 'number') {
        if (typeof v !== 'number') return fail('bad_type', `field "${name}" must be a number`);
      } else if (want === 'array') {
        if (!Array.isArray(v)) return fail('bad_type', `field "${name}" must be an array of numbers`);
      } else if (typeof want === 'object') {
        if (!Array.isArray(v)) return fail('bad_type', `field "${name}" must be an array of ${want.array} numbers`);
        if (v.length !== want.array) return fail('bad_length', `field "${name}" has ${v.length} values, expected ${want.array}`);
      }
    }
  }
  if (ignore !== undefined && ignore in obj) delete obj[ignore];
  return { ok: true, msg: obj as SensorMessage };
}

/**
 * Stream specs from a feature plan's `streams` map (stream -> field names): every field the
 * model reads must be present (`'any'`). Array lengths can be added by the caller.
 */
export function specsFromPlan(streams: ReadonlyMap<string, ReadonlySet<string>>): Map<string, StreamSpec> {
  const out = new Map<string, StreamSpec>();
  for (const [s, fields] of streams) {
    const f: Record<string, FieldSpec> = {};
    for (const name of fields) f[name] = 'any';
    out.set(s, { fields: f });
  }
  return out;
}
