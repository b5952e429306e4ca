/** An announcement naming a URL: the device fetches the bundle over HTTP and activates it. */
import t from 'tap';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { makeWorld, startDevice } from './fixture.js';
import { publishBundle } from '../../../src/fleet/ops.js';

t.test('bundle over HTTP, with one Range resume after a cut connection', async (t) => {
  const w = await makeWorld(t, { server: false });
  const v1 = w.bundle('1.0.0');
  const file = w.bundle('4.0.0', { pad: 150_000 });
  const bytes = readFileSync(file);
  let hits = 0;
  const ranges: string[] = [];
  const srv = createServer((req, res) => {
    hits++;
    const range = req.headers.range;
    if (range) {
      ranges.push(range);
      const from = Number(/bytes=(\d+)-/.exec(range)![1]);
      res.writeHead(206, { 'content-length': bytes.length - from });
      res.end(bytes.subarray(from));
      return;
    }
    // The first response is cut short: half the bytes, then the socket dies.
    res.writeHead(200, { 'content-length': bytes.length });
    res.write(bytes.subarray(0, 70_000), () => res.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as { port: number }).port;
  const d = await startDevice(t, w, { id: 'http', seed: v1 });
  await publishBundle({ url: w.broker.url, fleet: 'test', bundle: file, bundleUrl: `http://127.0.0.1:${port}/nav-4.0.0.erwb`, rollout: { devices: ['http'] } });
  const rx = await d.waitEvent((e) => e.event === 'received', 'received');
  t.equal(rx['via'], 'http');
  t.equal(hits, 2, 'one resume');
  t.match(ranges[0], /^bytes=\d+-$/, 'resumed with a Range request');
  await d.waitEvent((e) => e.event === 'activated', 'activated');
  t.equal(d.host.current()?.id, 'nav@4.0.0');
});
