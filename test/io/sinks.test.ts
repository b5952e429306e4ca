import t from 'tap';
import mqtt from 'mqtt';
import { SerialPort } from 'serialport';
import { MqttLink } from '../../src/io/mqtt/MqttLink.js';
import { SerialLink } from '../../src/io/serial/SerialLink.js';
import { fanOut, type ActionMessage } from '../../src/io/sinks/ActionSink.js';
import { MqttActionSink } from '../../src/io/sinks/MqttActionSink.js';
import { SerialActionSink } from '../../src/io/sinks/SerialActionSink.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { ptyPair } from '../helpers/socat.js';

t.test('an action goes to MQTT and to the serial port as one JSON line', async (t) => {
  const broker = await startMosquitto(t);
  const pty = await ptyPair(t);
  const link = new MqttLink({ url: broker.url, device: 'sink1' });
  const serial = new SerialLink({ path: pty.a });
  t.teardown(() => link.close());
  t.teardown(() => serial.close());
  await Promise.all([link.whenConnected(), serial.whenOpen()]);
  const watcher = await mqtt.connectAsync(broker.url);
  t.teardown(() => watcher.endAsync());
  await watcher.subscribeAsync('edgereward/sink1/action');
  const viaMqtt = new Promise<ActionMessage>((resolve) => watcher.on('message', (_t, p) => resolve(JSON.parse(p.toString()))));
  const peer = new SerialPort({ path: pty.b, baudRate: 115200 });
  t.teardown(() => new Promise<void>((r) => (peer.isOpen ? peer.close(() => r()) : r())));
  let text = '';
  const viaSerial = new Promise<ActionMessage>((resolve) =>
    peer.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(JSON.parse(text.slice(0, text.indexOf('\n'))));
    }),
  );
  await new Promise<void>((r) => peer.once('open', () => r()));
  const sink = fanOut([new MqttActionSink(link), new SerialActionSink(serial)]);
  t.equal(sink.name, 'mqtt+serial');
  const a: ActionMessage = { t: Date.now(), seq: 1, action: { v: 0.3, w: -0.5 }, reward: 1.25, model: 'nav@1.0.0', latency_ms: 1.2, obs_age_ms: 20, fallback: 'stale_input' };
  sink.publish(a);
  t.same(await viaMqtt, a);
  t.same(await viaSerial, a);
});
