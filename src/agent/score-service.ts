/**
 * The score request/response service of the MQTT contract, beside the loop, for planners that
 * bring their own candidates:
 *   `<prefix>/<device>/score/request`  {id, streams:{...}, candidates:[{...}]}
 *   `<prefix>/<device>/score/response` {id, rewards:[...], best, model} | {id, error:{code, message}}
 * With MQTT 5 the request's response topic and correlation data are honoured [MQTT-4.10].
 */
import type { Observable, Subscription } from 'rxjs';
import { mergeMap } from 'rxjs';
import { EdgeError, describeError, isEdgeError } from '../errors.js';
import { fillFeatures, type StreamValue } from '../runtime/features/assemble.js';
import type { CandidateSet } from '../runtime/features/candidates.js';
import { compile, explain } from '../validate.js';
import { counter } from '../telemetry/metrics.js';
import { moduleLogger, rateLimitedLog } from '../telemetry/log.js';
import { argmax } from './policy.js';
import { ScorerGate, type ModelSource } from './scorer.js';

export interface ScoreRequest {
  id: string | number;
  streams: Record<string, StreamValue>;
  candidates: Array<Record<string, number>>;
}

export type ScoreResponse =
  | { id: string | number | null; rewards: number[]; best: number; model: string }
  | { id: string | number | null; error: { code: string; message: string } };

const requestSchema = {
  type: 'object',
  required: ['id', 'streams', 'candidates'],
  properties: {
    id: { type: ['string', 'number'] },
    streams: { type: 'object', additionalProperties: { type: 'object' } },
    candidates: { type: 'array', minItems: 1, items: { type: 'object', additionalProperties: { type: 'number' } } },
  },
};
const validRequest = compile<ScoreRequest>(requestSchema);

const requests = counter<'result'>('edgereward_score_requests_total', 'Score service requests by result (ok, or the error code)', ['result']);
const log = moduleLogger('score-service');
const warn = rateLimitedLog(log);

export interface ScoreServiceOptions {
  /** Largest candidate list accepted per request. Default 4096. */
  maxCandidates?: number;
  /** Largest request payload in bytes. Default 262144. */
  maxBytes?: number;
}

function fail(id: string | number | null, code: `E_${string}`, message: string): ScoreResponse {
  requests.inc({ result: code });
  return { id, error: { code, message } };
}

export class ScoreService {
  private readonly maxCandidates: number;
  private readonly maxBytes: number;
  constructor(
    private readonly models: ModelSource,
    private readonly gate: ScorerGate,
    opts: ScoreServiceOptions = {},
  ) {
    this.maxCandidates = opts.maxCandidates ?? 4096;
    this.maxBytes = opts.maxBytes ?? 262_144;
  }

  /** Answer one request payload; never throws (bad requests get an `error` response). */
  async handle(payload: Uint8Array | string): Promise<ScoreResponse> {
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
    if (size > this.maxBytes) return fail(null, 'E_SCORE_TOO_LARGE', `the request has ${size} bytes; at most ${this.maxBytes} are accepted`);
    let value: unknown;
    try {
      value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    } catch (e) {
      return fail(null, 'E_SCORE_JSON', `the request is not JSON (${describeError(e)})`);
    }
    const id = typeof value === 'object' && value !== null && ['string', 'number'].includes(typeof (value as { id?: unknown }).id) ? (value as { id: string | number }).id : null;
    if (!validRequest(value)) return fail(id, 'E_SCORE_REQUEST', `the request is invalid: ${explain(validRequest.errors)}`);
    const req = value;
    if (req.candidates.length > this.maxCandidates) return fail(id, 'E_SCORE_REQUEST', `the request has ${req.candidates.length} candidates; at most ${this.maxCandidates} are scored per request`);
    const m = this.models.current();
    const plan = m?.scorer.plan;
    const space = m?.scorer.candidates;
    if (!m || !plan || !space) return fail(id, 'E_SCORE_NO_MODEL', 'no model with a feature map is loaded yet; retry when the status shows an active model');
    let cand: CandidateSet;
    try {
      cand = toCandidates(space.names, req.candidates);
    } catch (e) {
      return fail(id, isEdgeError(e) ? e.code : 'E_SCORE_REQUEST', isEdgeError(e) ? e.message.replace(/^E_\w+: /, '') : describeError(e));
    }
    for (const s of plan.streams.keys()) {
      if (req.streams[s] === undefined) return fail(id, 'E_SCORE_INPUT', `stream "${s}" is missing; model ${m.id} reads ${[...plan.streams.keys()].join(', ')}`);
    }
    const wait = this.gate.acquire();
    if (wait) await wait;
    try {
      const bufs = m.scorer.inputBuffers(cand.count);
      const bad = fillFeatures(plan, req.streams, cand, bufs);
      if (bad > 0) return fail(id, 'E_SCORE_INPUT', `${bad} feature value(s) are missing or not finite; check the stream fields model ${m.id} reads`);
      const r = await m.scorer.scoreBuffers(cand.count);
      const rewards = Array.from(r.subarray(0, cand.count));
      const best = argmax(r, cand.count);
      if (best < 0) return fail(id, 'E_SCORE_OUTPUT', `model ${m.id} returned no finite reward for these inputs`);
      requests.inc({ result: 'ok' });
      return { id, rewards, best, model: m.id };
    } catch (e) {
      warn('score', { err: describeError(e) }, 'score request failed');
      return fail(id, 'E_SCORE_FAILED', `scoring failed: ${describeError(e)}`);
    } finally {
      this.gate.release();
    }
  }
}

/** The request's candidate objects as rows in the model's action order. */
export function toCandidates(names: string[], list: Array<Record<string, number>>): CandidateSet {
  const d = names.length;
  const values = new Float32Array(list.length * d);
  list.forEach((c, r) => {
    for (let j = 0; j < d; j++) {
      const v = c[names[j]!];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new EdgeError('E_SCORE_REQUEST', `candidate ${r} has no finite value for "${names[j]}" (the model's actions are ${names.join(', ')})`);
      }
      values[r * d + j] = v;
    }
  });
  return { names, count: list.length, values };
}

/** The MqttLink surface the service needs. */
export interface RequestLink {
  topic(leaf: string): string;
  subscribe$(filter: string, o?: { qos?: 0 | 1 | 2 }): Observable<{ payload: Buffer; properties?: { responseTopic?: string; correlationData?: Buffer } | undefined }>;
  publish(topic: string, payload: string, o?: { qos?: 0 | 1 | 2; properties?: { correlationData?: Buffer } }): unknown;
}

/**
 * Serve requests from `link`: answer on the MQTT 5 response topic when the request names one
 * (echoing its correlation data), else on `<prefix>/<device>/score/response`. At most
 * `concurrency` requests are scored at once, so a flood cannot starve the loop.
 */
export function serveScoreRequests(link: RequestLink, service: ScoreService, concurrency = 2): Subscription {
  const fallbackTopic = link.topic('score/response');
  return link
    .subscribe$(link.topic('score/request'), { qos: 1 })
    .pipe(
      mergeMap(async (m) => {
        const res = await service.handle(m.payload);
        const props = m.properties;
        const topic = props?.responseTopic || fallbackTopic;
        const opts = props?.correlationData ? { qos: 1 as const, properties: { correlationData: props.correlationData } } : { qos: 1 as const };
        link.publish(topic, JSON.stringify(res), opts);
      }, concurrency),
    )
    .subscribe({ error: (e: unknown) => log.error({ err: describeError(e) }, 'the score service stopped') });
}
