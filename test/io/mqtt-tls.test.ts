import t from 'tap';
import mqtt from 'mqtt';
import { firstValueFrom, take, timeout } from 'rxjs';
import { isEdgeError } from '../../src/errors.js';
import { MqttLink } from '../../src/io/mqtt/MqttLink.js';
import { makeTestPki, startMosquitto } from '../helpers/mosquitto.js';

const pki = makeTestPki(t); // one CA for the file: key generation is the slow part

t.test('mqtts:// with a test CA, a client certificate and key', async (t) => {
  const broker = await startMosquitto(t, { tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, requireCertificate: true } });
  t.match(broker.url, /^mqtts:\/\//);
  const link = new MqttLink({ url: broker.url, device: 'sec1', ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, protocolVersion: 5 });
  t.teardown(() => link.close());
  const got = firstValueFrom(link.stream$('goal').pipe(take(1), timeout(10_000)));
  await link.whenConnected();
  const { readFileSync } = await import('node:fs');
  const pub = await mqtt.connectAsync(broker.url, { ca: readFileSync(pki.ca), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
  t.teardown(() => pub.endAsync());
  await pub.publishAsync('edgereward/sec1/sensors/goal', JSON.stringify({ t: Date.now(), dx: 1, dy: 0, dist: 1, bearing: 0 }), { qos: 1, retain: true });
  t.equal((await got).msg['dist'], 1, 'a message arrived over TLS');
});

t.test('TLS: a link without the client certificate never comes online; a missing PEM file is an E_MQTT_TLS_FILE', async (t) => {
  const broker = await startMosquitto(t, { tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, requireCertificate: true } });
  const link = new MqttLink({ url: broker.url, device: 'sec2', ca: pki.ca, reconnect: { minMs: 50, maxMs: 100, jitter: 0 } });
  t.teardown(() => link.close());
  const err = await link.whenConnected(1500).catch((e: unknown) => e);
  t.ok(isEdgeError(err, 'E_MQTT_TIMEOUT'), 'refused by the broker, keeps retrying quietly');
  t.throws(() => new MqttLink({ url: broker.url, device: 'x', ca: '/nonexistent/ca.pem' }), { code: 'E_MQTT_TLS_FILE' });
});

t.test('username and password', async (t) => {
  const broker = await startMosquitto(t, { users: { robot: 's3cret' } });
  const good = new MqttLink({ url: broker.url, device: 'auth1', username: 'robot', password: 's3cret' });
  t.teardown(() => good.close());
  await good.whenConnected();
  t.equal(good.connected, true);
  const bad = new MqttLink({ url: broker.url, device: 'auth2', username: 'robot', password: 'wrong', reconnect: { minMs: 50, maxMs: 100, jitter: 0 } });
  t.teardown(() => bad.close());
  const errors: Error[] = [];
  bad.on('error', (e) => errors.push(e));
  const err = await bad.whenConnected(1000).catch((e: unknown) => e);
  t.ok(isEdgeError(err, 'E_MQTT_TIMEOUT'));
  t.ok(errors.some((e) => /Not authorized|Bad User Name or Password/i.test(e.message)), 'the refusal reason is reported');
});
