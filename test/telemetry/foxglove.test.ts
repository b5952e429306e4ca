/**
 * Foxglove live: a FoxgloveClient (@foxglove/ws-protocol over `ws`) connects to the running
 * embedded demo, sees the advertised channels and receives lidar, pose and decisions; off
 * loopback a bearer token is required.
 */
import t from 'tap';
import WebSocket from 'ws';
import wsProtocol, { type Channel, type IWebSocket, type MessageData } from '@foxglove/ws-protocol';
import { loadConfig, defaultConfigFile } from '../../src/config/load.js';
import { startStack } from '../../src/demo/stack.js';
import { FoxgloveBridge } from '../../src/telemetry/foxglove/FoxgloveBridge.js';
import { shippedModelId } from '../helpers/shipped.js';

const { FoxgloveClient } = wsProtocol;

function connect(url: string, headers?: Record<string, string>): Promise<{ client: InstanceType<typeof FoxgloveClient>; channels: Promise<Channel[]> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL], headers ? { headers } : {});
    ws.binaryType = 'arraybuffer';
    const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
    const channels = new Promise<Channel[]>((res) => client.on('advertise', res));
    client.on('open', () => resolve({ client, channels }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    client.on('error', (e) => reject(e instanceof Error ? e : new Error(String(e))));
  });
}

t.test('a Foxglove client sees the running demo', async (t) => {
  const cfg = loadConfig({
    file: defaultConfigFile(),
    env: {},
    flags: { 'foxglove.enabled': true, 'foxglove.port': 0, 'record.enabled': false, 'telemetry.port': -1, 'telemetry.live': 'off', 'telemetry.watchdog': false, 'telemetry.logLevel': 'warn' },
  });
  const stack = await startStack(cfg);
  t.teardown(() => stack.stop());
  const fox = stack.daemon.foxglove!;
  t.ok(fox, 'the bridge runs');
  t.match(fox.url, /^ws:\/\/127\.0\.0\.1:\d+$/, 'on loopback');

  const { client, channels } = await connect(fox.url);
  t.teardown(() => client.close());
  const chans = await channels;
  const byTopic = new Map(chans.map((c) => [c.topic, c]));
  for (const [topic, schema] of [['/lidar', 'foxglove.LaserScan'], ['/tf', 'foxglove.FrameTransform'], ['/pose', 'foxglove.PoseInFrame'], ['/goal', 'foxglove.PoseInFrame'], ['/candidates', 'foxglove.SceneUpdate'], ['/decisions', 'edgereward.Decision']] as const) {
    t.equal(byTopic.get(topic)?.schemaName, schema, `${topic} advertised as ${schema}`);
    t.equal(byTopic.get(topic)?.encoding, 'json');
  }
  const want = ['/lidar', '/pose', '/decisions', '/candidates'];
  const subs = new Map<number, string>();
  for (const topic of want) subs.set(client.subscribe(byTopic.get(topic)!.id), topic);
  const got = new Map<string, Record<string, unknown>>();
  await new Promise<void>((resolve) => {
    client.on('message', (m: MessageData) => {
      const topic = subs.get(m.subscriptionId);
      if (!topic || got.has(topic)) return;
      got.set(topic, JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>);
      if (got.size === want.length) resolve();
    });
  });
  const scan = got.get('/lidar')!;
  t.equal((scan['ranges'] as number[]).length, 32, 'a laser scan of 32 beams');
  t.equal(scan['frame_id'], 'base_link');
  t.ok((got.get('/pose')!['pose'] as { position: { x: number } }).position, 'a pose');
  const dec = got.get('/decisions')!;
  t.equal(dec['model'], shippedModelId());
  t.ok(Array.isArray(dec['rewards']));
  const scene = got.get('/candidates')! as { entities: Array<{ arrows: unknown[] }> };
  // (The scene and the decision may come from different ticks; a fallback tick has no rewards.)
  t.equal(scene.entities[0]!.arrows.length, stack.daemon.models.current()!.scorer.candidates!.count, 'one arrow per candidate');
});

t.test('off loopback the bridge demands a bearer token', async (t) => {
  await t.rejects(FoxgloveBridge.start({ host: '0.0.0.0', port: 0 }), { code: 'E_FOXGLOVE_TOKEN' });
  const fox = await FoxgloveBridge.start({ host: '0.0.0.0', port: 0, token: 'secret-token-123456' });
  t.teardown(() => fox.close());
  const url = `ws://127.0.0.1:${fox.port}`;
  await t.rejects(connect(url), /HTTP 401/, 'no token: refused');
  await t.rejects(connect(`${url}/?token=wrong`), /HTTP 401/, 'wrong token: refused');
  const a = await connect(`${url}/?token=secret-token-123456`);
  t.ok((await a.channels).length > 0, 'token in the URL (browsers)');
  a.client.close();
  const b = await connect(url, { Authorization: 'Bearer secret-token-123456' });
  t.ok((await b.channels).length > 0, 'token in the Authorization header');
  b.client.close();
});
