/**
 * Counting and logging of decoded input, shared by every source (MQTT, serial). Bad input is
 * counted per stream and reason, logged at a limited rate, and dropped — never thrown.
 *
 * The `stream` label only ever carries a configured stream name: a name taken from the wire
 * (an unknown stream) is folded into `_unknown`, so a noisy or hostile sender cannot blow up
 * the metric's cardinality.
 */
import { moduleLogger, rateLimitedLog } from '../../telemetry/log.js';
import { counter } from '../../telemetry/metrics.js';
import type { DecodeResult } from './sensor.js';

export const UNKNOWN_STREAM_LABEL = '_unknown';

const messagesTotal = counter('edgereward_messages_total', 'Sensor messages by stream and result: ok, or the reason they were dropped', ['stream', 'result', 'source'] as const);
const logger = moduleLogger('io');
const warn = rateLimitedLog(logger);

export type Source = 'mqtt' | 'serial';

/** Count one decode result; bad ones are also logged (rate-limited per source/stream/reason). */
export function account(source: Source, stream: string, res: DecodeResult, known = true): void {
  const label = known ? stream : UNKNOWN_STREAM_LABEL;
  if (res.ok) {
    messagesTotal.inc({ stream: label, result: 'ok', source });
    return;
  }
  messagesTotal.inc({ stream: label, result: res.reason, source });
  warn(`${source}:${label}:${res.reason}`, { source, stream: stream.slice(0, 64), reason: res.reason, detail: res.detail }, `dropped a ${source} message: ${res.reason}`);
}

/** Count a message dropped for a reason outside decoding (e.g. a serial frame with a bad CRC). */
export function accountDrop(source: Source, stream: string, reason: string, detail: string, known = true): void {
  const label = known ? stream : UNKNOWN_STREAM_LABEL;
  messagesTotal.inc({ stream: label, result: reason, source });
  warn(`${source}:${label}:${reason}`, { source, stream: stream.slice(0, 64), reason, detail }, `dropped a ${source} message: ${reason}`);
}
