import t from 'tap';
import { SerialPort } from 'serialport';
import { firstValueFrom, take, toArray, timeout } from 'rxjs';
import { SerialLink } from '../../src/io/serial/SerialLink.js';
import { encodeFrame } from '../../src/io/serial/codecs/frame.js';
import { registry } from '../../src/telemetry/metrics.js';
import { ptyPair, type PtyPair } from '../helpers/socat.js';

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  let sum = 0;
  for (const x of (await m.get()).values) if (Object.entries(labels).every(([k, v]) => x.labels[k] === v)) sum += x.value;
  return sum;
}

async function openPeer(t: { teardown(fn: () => unknown): void }, path: string): Promise<SerialPort> {
  const p = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => p.open((e) => (e ? reject(e) : resolve())));
  p.on('error', () => {});
  t.teardown(() => new Promise<void>((r) => (p.isOpen ? p.close(() => r()) : r())));
  return p;
}

const write = (p: SerialPort, data: string | Buffer) => new Promise<void>((resolve, reject) => p.write(data, (e) => (e ? reject(e) : p.drain(() => resolve()))));

t.test('JSON lines: samples arrive per stream; garbage, half lines, overlong lines and bad messages are counted and dropped', async (t) => {
  const pty = await ptyPair(t);
  const link = new SerialLink({ path: pty.a, streams: ['imu', 'odom'], maxLineBytes: 512 });
  t.teardown(() => link.close());
  const imu = firstValueFrom(link.stream$('imu').pipe(take(2), toArray(), timeout(10_000)));
  await link.whenOpen();
  const peer = await openPeer(t, pty.b);
  const port = pty.a;
  const m0 = {
    overlong: await metric('edgereward_serial_dropped_total', { port, reason: 'overlong' }),
  };
  const now = Date.now();
  await write(peer, `{"s":"imu","t":${now},"ax":0.1,"ay":0,"az":9.8,"gx":0,"gy":0,"gz":0}\n`);
  await write(peer, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a])); // garbage bytes + newline
  await write(peer, '{"s":"imu","t":12'); // half a line…
  await write(peer, '\n'); // …cut off
  await write(peer, `{"s":"imu","t":${now},"pad":[${Array(400).fill(1).join(',')}]}\n`); // overlong
  await write(peer, `{"s":"imu","t":${now},"ax":1e999}\n`); // non-finite
  await write(peer, `{"s":"imu","t":${now},"ax":"x"}\n`); // bad type
  await write(peer, `{"s":"imu","t":${now + 3_600_000},"ax":1}\n`); // future
  await write(peer, `{"s":"sonar","t":${now},"d":1}\n`); // unknown stream
  await write(peer, `{"t":${now},"ax":1}\n`); // no stream name
  await write(peer, `{"s":"imu","t":${now},"ax":0.2,"ay":0,"az":9.8,"gx":0,"gy":0,"gz":0}\r\n`);
  const got = await imu;
  t.same(got.map((s) => s.msg['ax']), [0.1, 0.2], 'only the two good lines arrived');
  t.notOk('s' in got[0]!.msg, 'the envelope field is stripped');
  t.ok((await metric('edgereward_serial_dropped_total', { port, reason: 'overlong' })) > m0.overlong, 'overlong line counted');
  for (const [stream, result] of [['imu', 'bad_json'], ['imu', 'non_finite'], ['imu', 'bad_type'], ['imu', 'future'], ['_unknown', 'unknown_stream'], ['_unknown', 'missing_field']] as const) {
    t.ok((await metric('edgereward_messages_total', { source: 'serial', stream, result })) >= 1, `${stream} ${result} counted`);
  }
});

t.test('CSV: header skipped, rows decoded, bad rows counted', async (t) => {
  const pty = await ptyPair(t);
  const link = new SerialLink({ path: pty.a, codec: { kind: 'csv', columns: ['s', 't', 'ax', 'ay', 'az'] }, streams: ['imu'] });
  t.teardown(() => link.close());
  const got = firstValueFrom(link.stream$('imu').pipe(take(2), toArray(), timeout(10_000)));
  await link.whenOpen();
  const peer = await openPeer(t, pty.b);
  const now = Date.now();
  const before = await metric('edgereward_messages_total', { source: 'serial', stream: 'imu', result: 'bad_type' });
  await write(peer, `s,t,ax,ay,az\nimu,${now},1,2,3\nimu,${now},1,,3\nimu,${now},nan,2,3\nimu,${now},1,2\nimu,${now},4,5,6\n`);
  const s = await got;
  t.same(s.map((x) => [x.msg['ax'], x.msg['ay'], x.msg['az']]), [[1, 2, 3], [4, 5, 6]]);
  t.ok((await metric('edgereward_messages_total', { source: 'serial', stream: 'imu', result: 'bad_type' })) > before, 'empty cell counted');
  t.ok((await metric('edgereward_messages_total', { source: 'serial', stream: 'imu', result: 'non_finite' })) >= 1, 'nan counted');
  t.ok((await metric('edgereward_messages_total', { source: 'serial', stream: 'imu', result: 'bad_length' })) >= 1, 'short row counted');
});

t.test('binary frames: resync on garbage, bad CRC dropped, frames split across writes', async (t) => {
  const pty = await ptyPair(t);
  const link = new SerialLink({
    path: pty.a,
    codec: { kind: 'frame', streams: { 1: { stream: 'imu', fields: ['ax', 'ay', 'az'] }, 2: { stream: 'lidar', fields: [{ name: 'ranges', count: 4 }] } } },
  });
  t.teardown(() => link.close());
  const got = firstValueFrom(link.samples$.pipe(take(3), toArray(), timeout(10_000)));
  await link.whenOpen();
  const peer = await openPeer(t, pty.b);
  const port = pty.a;
  const crc0 = await metric('edgereward_serial_dropped_total', { port, reason: 'bad_crc' });
  const now = Date.now();
  const good1 = encodeFrame(1, now, [1, 2, 3]);
  const bad = encodeFrame(1, now, [9, 9, 9]);
  bad[10] = bad[10]! ^ 0xff; // corrupt the body: CRC fails
  const good2 = encodeFrame(2, now, [0.5, 1.5, 2.5, 3.5]);
  const good3 = encodeFrame(1, now, [4, 5, 6]);
  await write(peer, Buffer.concat([Buffer.from([1, 2, 0xaa, 3, 0xaa]), good1, Buffer.from('noise'), bad]));
  await write(peer, good2.subarray(0, 7));
  await write(peer, Buffer.concat([good2.subarray(7), encodeFrame(7, now, [1]) /* unknown id */, good3]));
  const s = await got;
  t.same(s.map((x) => x.stream), ['imu', 'lidar', 'imu']);
  t.same(s[0]!.msg, { t: now, ax: 1, ay: 2, az: 3 });
  t.same(s[1]!.msg['ranges'], [0.5, 1.5, 2.5, 3.5]);
  t.ok((await metric('edgereward_serial_dropped_total', { port, reason: 'bad_crc' })) > crc0, 'bad CRC counted');
  t.ok((await metric('edgereward_serial_dropped_total', { port, reason: 'garbage' })) >= 1, 'garbage counted');
  t.ok((await metric('edgereward_messages_total', { source: 'serial', stream: '_unknown', result: 'unknown_stream' })) >= 1, 'unknown frame id counted');
});

async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

t.test('the port vanishes (socat killed) and returns: the link reopens and messages flow again', async (t) => {
  const pty: PtyPair = await ptyPair(t);
  const link = new SerialLink({ path: pty.a, streams: ['imu'], watchIntervalMs: 100, reopen: { minMs: 50, maxMs: 300, jitter: 0.2 } });
  t.teardown(() => link.close());
  const events: string[] = [];
  link.on('lost', (e) => events.push(`lost:${e.reason}`));
  link.on('open', (e) => events.push(e.reopen ? 'reopen' : 'open'));
  await link.whenOpen();
  const reopen0 = await metric('edgereward_serial_reopen_total', { port: pty.a });
  let peer = await openPeer(t, pty.b);
  const first = firstValueFrom(link.stream$('imu').pipe(take(1), timeout(10_000)));
  await write(peer, `{"s":"imu","t":${Date.now()},"ax":1}\n`);
  t.equal((await first).msg['ax'], 1);
  await write(peer, '{"s":"imu","t":'); // a half line in flight at the moment of the unplug
  await pty.kill();
  await until(() => link.state !== 'open', 'the link to notice the unplug');
  t.match(events[1], /^lost:(close|vanished|replaced)$/, `the loss was noticed (${events.join(',')})`);
  await new Promise((r) => setTimeout(r, 300)); // a few failed reopen attempts while unplugged
  // Between reopen attempts it waits, during one it is opening: either way, not open.
  t.match(link.state, /^(waiting|opening)$/, `not open while unplugged (${link.state})`);
  await pty.restart();
  await until(() => link.isOpen, 'the link to reopen');
  t.ok((await metric('edgereward_serial_reopen_total', { port: pty.a })) > reopen0, 'reopen counted');
  peer = await openPeer(t, pty.b);
  const again = firstValueFrom(link.stream$('imu').pipe(take(1), timeout(10_000)));
  await write(peer, `{"s":"imu","t":${Date.now()},"ax":2}\n`);
  t.equal((await again).msg['ax'], 2, 'messages flow again');
});

t.test('action lines are written back with backpressure: newest wins, nothing queues unboundedly', async (t) => {
  const pty = await ptyPair(t);
  const link = new SerialLink({ path: pty.a });
  t.teardown(() => link.close());
  await link.whenOpen();
  const peer = await openPeer(t, pty.b);
  let text = '';
  peer.on('data', (d: Buffer) => (text += d.toString()));
  const results: Record<string, number> = {};
  const pad = 'x'.repeat(1000);
  for (let seq = 0; seq < 500; seq++) {
    const r = link.writeLine({ seq, action: { v: 0.1, w: 0 }, pad });
    results[r] = (results[r] ?? 0) + 1;
  }
  t.ok((results['written'] ?? 0) < 500, `backpressure reached (${JSON.stringify(results)})`);
  t.ok((results['replaced'] ?? 0) > 0, 'pending actions were replaced by newer ones');
  await until(() => /"seq":499[^\n]*\n/.test(text), 'the newest action to arrive (whole line)');
  const seqs = text.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
  t.equal(seqs.at(-1), 499, 'the newest action was written last');
  t.ok(seqs.length <= (results['written'] ?? 0) + 1, 'only written + the one pending reached the port');
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'in order');
});
