import t from 'tap';
import mqtt from 'mqtt';
import { createConnection, createServer, type Socket } from 'node:net';
import { MqttLink } from '../../src/io/mqtt/MqttLink.js';
import { startMosquitto } from '../helpers/mosquitto.js';

/** A TCP relay that can go silent (a half-open link: sockets stay up, nothing passes). */
async function relay(t: { teardown(fn: () => unknown): void }, target: number) {
  let silent = false;
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: target });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.on('data', (d) => !silent && outbound.write(d));
    outbound.on('data', (d) => !silent && inbound.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const a = server.address();
  return {
    url: `mqtt://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    silence: () => (silent = true),
    heal: () => (silent = false),
  };
}

t.test('keepalive notices a dead (half-open) link: the link reconnects, the broker publishes the will', async (t) => {
  const broker = await startMosquitto(t);
  const proxy = await relay(t, broker.port);
  const link = new MqttLink({ url: proxy.url, device: 'ka1', keepalive: 1, connectTimeout: 1000, reconnect: { minMs: 100, maxMs: 300, jitter: 0 } });
  t.teardown(() => link.close());
  await link.whenConnected();
  const watcher = await mqtt.connectAsync(broker.url);
  t.teardown(() => watcher.endAsync());
  const states: Array<{ state: string; session: number }> = [];
  watcher.on('message', (_t, p) => states.push(JSON.parse(p.toString())));
  await watcher.subscribeAsync('edgereward/ka1/status');
  const lost = new Promise<string>((resolve) => link.once('disconnect', (d) => resolve(d.reason)));
  proxy.silence();
  await lost; // no PINGRESP within 1.5 × keepalive
  t.equal(link.connected, false, 'the dead link was noticed without any TCP error');
  const until = async (pred: () => boolean, what: string) => {
    for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!pred()) throw new Error(`timed out: ${what}; status history ${JSON.stringify(states)}`);
  };
  await until(() => states.some((s) => s.state === 'offline' && s.session === 1), 'the will');
  t.pass('the broker published the will for the silent client');
  proxy.heal();
  await until(() => states.some((s) => s.state === 'online' && s.session === 2), 'the new birth');
  t.equal(link.connected, true, 'reconnected once the path healed');
});
