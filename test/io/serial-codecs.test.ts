import t from 'tap';
import { Writable } from 'node:stream';
import { crc16 } from '../../src/io/serial/crc16.js';
import { decodeFrameBody, encodeFrame, frameSchema } from '../../src/io/serial/codecs/frame.js';
import { decodeJsonLine, encodeJsonLine } from '../../src/io/serial/codecs/jsonl.js';
import { decodeCsvLine } from '../../src/io/serial/codecs/csv.js';
import { FrameParser } from '../../src/io/serial/parsers/FrameParser.js';
import { LineParser } from '../../src/io/serial/parsers/LineParser.js';
import { LatestWriter } from '../../src/io/serial/LatestWriter.js';

const now = 1_700_000_000_000;

t.test('CRC-16/CCITT-FALSE check value', async (t) => {
  t.equal(crc16(Buffer.from('123456789')), 0x29b1);
  t.equal(crc16(Buffer.alloc(0)), 0xffff);
});

t.test('frame encode/decode; the layout is the documented one', async (t) => {
  const f = encodeFrame(3, now, [1.5, -2]);
  t.same([...f.subarray(0, 5)], [0xaa, 0x55, 17, 0, 3], 'sync, len LE (9 + 8), id');
  t.equal(f.length, 4 + 17 + 2);
  t.equal(f.readDoubleLE(5), now);
  t.equal(f.readUInt16BE(21), crc16(f, 2, 21), 'CRC over len + body, big-endian');
  const schema = frameSchema({ 3: { stream: 'pair', fields: ['a', 'b'] } });
  t.same(decodeFrameBody(f.subarray(4, 21), schema), { stream: 'pair', known: true, result: { ok: true, msg: { t: now, a: 1.5, b: -2 } } });
  t.match(decodeFrameBody(encodeFrame(3, now, [1]).subarray(4, 17), schema).result, { ok: false, reason: 'bad_length' });
  t.match(decodeFrameBody(encodeFrame(9, now, [1]).subarray(4, 17), schema), { known: false, result: { ok: false, reason: 'unknown_stream' } });
  t.throws(() => frameSchema({ 300: { stream: 'x', fields: [] } }), TypeError);
});

function collect(p: FrameParser | LineParser): Buffer[] {
  const out: Buffer[] = [];
  p.on('data', (b: Buffer) => out.push(b));
  return out;
}

t.test('FrameParser resyncs on garbage, byte by byte and in one chunk', async (t) => {
  const good = [encodeFrame(1, now, [1]), encodeFrame(1, now, [2]), encodeFrame(1, now, [3])];
  const bad = encodeFrame(1, now, [4]);
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
  const fakeLen = Buffer.from([0xaa, 0x55, 0xff, 0xff]); // impossible length
  const stream = Buffer.concat([Buffer.from([0xaa, 0x01, 0x55]), good[0]!, fakeLen, bad, Buffer.from('zz'), good[1]!, Buffer.from([0xaa]), good[2]!]);
  for (const chunking of [1, 3, 1000]) {
    const drops: Record<string, number> = {};
    const p = new FrameParser({ onDrop: (r) => (drops[r] = (drops[r] ?? 0) + 1) });
    const out = collect(p);
    for (let i = 0; i < stream.length; i += chunking) p.write(stream.subarray(i, i + chunking));
    await new Promise((r) => setImmediate(r));
    t.same(out.map((b) => b.readFloatLE(9)), [1, 2, 3], `chunks of ${chunking}: all good frames`);
    t.ok(drops['bad_crc']! >= 1 && drops['bad_length']! >= 1 && drops['garbage']! >= 1, `chunks of ${chunking}: ${JSON.stringify(drops)}`);
  }
});

t.test('LineParser: CR LF, overlong lines dropped up to the newline, partial line on reset', async (t) => {
  const drops: string[] = [];
  const p = new LineParser({ maxLineBytes: 8, onDrop: (r, n) => drops.push(`${r}:${n}`) });
  const out = collect(p);
  p.write('ab\r\ncd');
  p.write('ef\n0123456');
  p.write('789abc\nok\n\n');
  p.write('half');
  await new Promise((r) => setImmediate(r));
  t.same(out.map(String), ['ab', 'cdef', 'ok']);
  p.reset();
  t.same(drops, ['overlong:13', 'partial:4']);
  t.throws(() => new LineParser({ maxLineBytes: 0 }), TypeError);
});

t.test('JSON line and CSV codecs', async (t) => {
  t.same(decodeJsonLine(Buffer.from(`{"s":"imu","t":${now},"ax":1}`), { now }), { stream: 'imu', result: { ok: true, msg: { t: now, ax: 1 } } });
  t.match(decodeJsonLine(Buffer.from(`{"s":"imu","t":${now},"ax":1e999}`), { now }), { stream: 'imu', result: { reason: 'non_finite' } });
  t.match(decodeJsonLine(Buffer.from('garbage'), { now }), { stream: '?', result: { reason: 'bad_json' } });
  t.match(decodeJsonLine(Buffer.from(`{"t":${now}}`), { now }), { stream: '?', result: { reason: 'missing_field' } });
  t.equal(encodeJsonLine({ a: 1 }).toString(), '{"a":1}\n');
  const csv = { columns: ['t', 'x', 'y'], stream: 'pos' };
  t.same(decodeCsvLine(Buffer.from(`${now}, 1 ,2`), csv, { now }), { stream: 'pos', result: { ok: true, msg: { t: now, x: 1, y: 2 } } });
  t.same(decodeCsvLine(Buffer.from('t,x,y'), csv), { header: true });
  t.match(decodeCsvLine(Buffer.from(`${now},abc,2`), csv, { now }), { result: { reason: 'bad_type' } });
  t.match(decodeCsvLine(Buffer.from(`${now},1e999,2`), csv, { now }), { result: { reason: 'non_finite' } });
  t.match(decodeCsvLine(Buffer.from(`${now},1,2`), { columns: ['t', 'x', 's'], streamColumn: 's' }, { now }), { stream: '2' });
});

t.test('LatestWriter: one pending message at most, newest wins, flushed on drain', async (t) => {
  const written: string[] = [];
  let release: (() => void) | undefined;
  const w = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _e, cb) {
      written.push(chunk.toString());
      release = cb;
    },
  });
  const lw = new LatestWriter();
  const drops: string[] = [];
  lw.onDrop = (r) => drops.push(r);
  t.equal(lw.write(Buffer.from('x')), 'dropped', 'no target');
  lw.attach(w);
  t.equal(lw.write(Buffer.from('first')), 'written'); // over the high-water mark: must wait
  t.equal(lw.blocked, true);
  t.equal(lw.write(Buffer.from('a')), 'pending');
  t.equal(lw.write(Buffer.from('b')), 'replaced');
  t.equal(lw.write(Buffer.from('c')), 'replaced');
  release!();
  await new Promise((r) => setImmediate(r));
  t.same(written, ['first', 'c']);
  t.same(drops, ['closed', 'replaced', 'replaced']);
  lw.attach(undefined);
  t.equal(lw.write(Buffer.from('z')), 'dropped');
});
