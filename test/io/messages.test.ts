import t from 'tap';
import { decodeSensor, REJECT_REASONS, specsFromPlan, validateSensor, type StreamSpec } from '../../src/io/messages/sensor.js';

const now = 1_700_000_000_000;
const enc = (s: string) => Buffer.from(s);

t.test('valid messages decode without throwing', async (t) => {
  const r = decodeSensor('lidar', enc(JSON.stringify({ t: now, ranges: [1, 2, 3] })), { now });
  t.same(r, { ok: true, msg: { t: now, ranges: [1, 2, 3] } });
  const s = decodeSensor('odom', JSON.stringify({ t: now - 5, x: 1, y: 2, theta: 0, v: 0, w: 0 }), { now });
  t.equal(s.ok, true, 'strings work too');
});

t.test('every reject reason, none thrown', async (t) => {
  const streams = new Map<string, StreamSpec>([['imu', { fields: { ax: 'number' as const } }], ['lidar', { fields: { ranges: { array: 3 } } }]]);
  const cases: Array<[string, string | Uint8Array, string, object?]> = [
    ['imu', 'x'.repeat(100), 'too_large', { maxBytes: 10 }],
    ['imu', '', 'empty'],
    ['imu', '{"t":1,', 'bad_json'],
    ['imu', Buffer.from([0xff, 0xfe, 0x00]), 'bad_json'],
    ['imu', '[1,2]', 'not_object'],
    ['imu', 'null', 'not_object'],
    ['imu', '42', 'not_object'],
    ['imu', `{"t":${now},"ax":"1"}`, 'bad_type'],
    ['imu', `{"t":${now},"ax":{"a":1}}`, 'bad_type'],
    ['imu', `{"t":${now},"ax":[1,null]}`, 'bad_type'],
    ['imu', `{"t":${now},"ax":true}`, 'bad_type'],
    ['imu', `{"t":${now},"ax":1e999}`, 'non_finite'],
    ['imu', `{"t":${now},"ax":-1e999}`, 'non_finite'],
    ['lidar', `{"t":${now},"ranges":[1,1e999,2]}`, 'non_finite'],
    ['imu', `{"ax":1}`, 'missing_field'],
    ['imu', `{"t":${now}}`, 'missing_field'],
    ['imu', `{"t":-5,"ax":1}`, 'bad_time'],
    ['imu', `{"t":${now + 60_000},"ax":1}`, 'future'],
    ['lidar', `{"t":${now},"ranges":[1,2]}`, 'bad_length'],
    ['lidar', `{"t":${now},"ranges":1}`, 'bad_type'],
    ['sonar', `{"t":${now},"d":1}`, 'unknown_stream'],
  ];
  const seen = new Set<string>();
  for (const [stream, payload, reason, extra] of cases) {
    const r = decodeSensor(stream, payload, { now, streams, ...extra });
    t.equal(r.ok ? 'ok' : r.reason, reason, `${String(payload).slice(0, 40)} -> ${reason}`);
    if (!r.ok) {
      t.type(r.detail, 'string');
      seen.add(r.reason);
    }
  }
  t.same([...seen].sort(), [...REJECT_REASONS].sort(), 'every reason is exercised');
});

t.test('NaN cannot come through JSON but can through parsed values; future allowance is configurable', async (t) => {
  t.match(validateSensor('imu', { t: now, ax: NaN }, { now }), { ok: false, reason: 'non_finite' });
  t.match(decodeSensor('imu', `{"t":${now + 3000},"ax":1}`, { now }), { ok: true }, 'within the default 5 s skew');
  t.match(decodeSensor('imu', `{"t":${now + 3000},"ax":1}`, { now, maxFutureMs: 1000 }), { ok: false, reason: 'future' });
  t.match(decodeSensor('imu', '{"t":1,"__proto__":{"polluted":1}}', { now }), { ok: false, reason: 'bad_type' });
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

t.test('specsFromPlan: every field the model reads must be present', async (t) => {
  const specs = specsFromPlan(new Map([['goal', new Set(['dist', 'bearing'])]]));
  t.match(decodeSensor('goal', `{"t":${now},"dist":1}`, { now, streams: specs }), { ok: false, reason: 'missing_field' });
  t.match(decodeSensor('goal', `{"t":${now},"dist":1,"bearing":[0]}`, { now, streams: specs }), { ok: true });
  t.match(decodeSensor('odom', `{"t":${now}}`, { now, streams: specs }), { ok: false, reason: 'unknown_stream' });
});
