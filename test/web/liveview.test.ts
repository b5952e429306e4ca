/**
 * The live pages in a real headless Chromium (Debian's, driven by playwright-core; nothing is
 * downloaded), against the embedded demo: in-process aedes broker, simulated robot, daemon on
 * the shipped model; a second device — `edgereward run` in a child process with its own
 * simulated robot on the same broker — bound to 0.0.0.0 with a token; the fleet page on that
 * broker.
 *
 * The swap goes through the real update path: the demo device follows fleet "demo"
 * (updates.fleet) and trusts a key made by the test; the test announces a 0.2.0 of the sample
 * model signed by that key (retained, for device "demo" only, fetched over HTTP from the
 * test), and the daemon downloads, verifies, stores, canaries and activates it; its update
 * agent publishes each step on the device's `events` topic, which the page shows.
 * Screenshots go to test/artifacts/ (git-ignored) and docs/img/ (committed for the docs).
 */
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpDir } from '../helpers/tmp.js';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import mqtt from 'mqtt';
import { loadConfig, defaultConfigFile } from '../../src/config/load.js';
import { setLogLevel } from '../../src/telemetry/log.js';
import { startStack, type Stack } from '../../src/demo/stack.js';
import { readBundle, modelBytes } from '../../src/runtime/bundle/format.js';
import { createBundle } from '../../src/runtime/bundle/create.js';
import { generateKeyPair } from '../../src/runtime/bundle/keys.js';
import { makeAnnouncement } from '../../src/fleet/announce.js';
import { announceTopic } from '../../src/runtime/updates/protocol.js';
import { startFleetPage } from '../../src/telemetry/web/index.js';
import { shippedModelId } from '../helpers/shipped.js';

const CHROMIUM = '/usr/bin/chromium';
const root = new URL('../../', import.meta.url).pathname;
const artifacts = join(root, 'test/artifacts');
const docsImg = join(root, 'docs/img');
const TOKEN = 'test-token-0123456789abcdef';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(CHROMIUM)) {
  t.plan(0, `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
} else {
  setLogLevel('warn');
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(docsImg, { recursive: true });
  // The browser code, compiled as `npm run build` does (when dist/web is older than src/web).
  const built = join(root, 'dist/web/device.js');
  const newest = Math.max(...readdirSync(join(root, 'src/web')).map((f) => statSync(join(root, 'src/web', f)).mtimeMs));
  if (!existsSync(built) || statSync(built).mtimeMs < newest) execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.web.json')], { stdio: 'inherit' });

  const base = { 'telemetry.port': 0, 'telemetry.live': 'off', 'telemetry.logLevel': 'warn', 'record.enabled': false, 'telemetry.statusIntervalMs': 1000 };
  let stack: Stack;
  let device2: ChildProcess;
  let port2 = 0;
  let browser: Browser;
  let fleet: Awaited<ReturnType<typeof startFleetPage>>;

  // The release: 0.2.0 of the sample model, signed by a key the demo device trusts.
  const kp = generateKeyPair();
  const keys = tmpDir(t, 'edgereward-web-keys-');
  writeFileSync(join(keys, 'test.pub'), kp.publicKeyPem);
  const sample = readBundle(join(root, 'models/sample/sample.bundle'));
  const { files: _files, ...part } = sample.manifest;
  const provenance = { teacher: 'sample@0.1.0', steps: ['re-signed copy (live-view test fixture)'], fidelity: { top1_agreement: 1, spearman: 1 } };
  const v2bytes = createBundle({ model: modelBytes(sample), manifest: { ...part, version: '0.2.0', provenance }, privateKeyPem: kp.privateKeyPem });
  const files = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(v2bytes));

  t.before(async () => {
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    const flags = { ...base, 'updates.fleet': 'demo', 'updates.canary.ticks': 20,
      // The test checks the swap path, not the latency budget (a loaded CI machine must not fail it).
      'updates.canary.budgetMs': 1000, 'model.trust': `${join(root, 'models/trusted')},${join(root, 'models/sample/trusted')},${keys}` };
    stack = await startStack(loadConfig({ file: defaultConfigFile(), flags }));
    const url = stack.broker!.url;
    // The second device: the real CLI in its own process (its own metrics), robot included.
    device2 = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'run', '--device', 'demo2', '--mqtt-url', url, '--http-port', '0', '--live', 'off', '--no-record', '--set', 'telemetry.host=0.0.0.0', '--set', 'demo.seed=7', '--set', 'telemetry.statusIntervalMs=1000'], {
      cwd: root, env: { ...process.env, EDGEREWARD_TELEMETRY_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    port2 = await new Promise<number>((resolve, reject) => {
      createInterface({ input: device2.stdout! }).on('line', (l) => {
        const m = /"http":"http:\/\/0\.0\.0\.0:(\d+)"/.exec(l);
        if (m) resolve(Number(m[1]));
      });
      device2.once('exit', (c) => reject(new Error(`the second device exited (${c})`)));
    });
    fleet = await startFleetPage({ url, fleet: 'demo', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  t.teardown(async () => {
    await browser?.close();
    await fleet?.close();
    if (device2 && device2.exitCode === null) {
      device2.kill('SIGINT');
      await new Promise((r) => device2.once('exit', r));
    }
    await stack?.stop();
    files.close();
  });

  /** A page that records console errors, failed requests and uncaught exceptions. */
  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => !r.url().endsWith('/live') && errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(url);
    return { page, errors };
  }

  const frames = (page: Page) => page.evaluate(() => ({ n: Number(document.body.dataset['frames'] ?? 0), seq: Number(document.body.dataset['seq'] ?? 0) }));

  t.test('device page: loads cleanly, live frames arrive and change, shows the active model, shows a swap', async (t) => {
    const url = `${stack.daemon.http!.url}/`;
    const { page, errors } = await open(url);
    await page.waitForFunction(() => Number(document.body.dataset['frames'] ?? 0) >= 3, undefined, { timeout: 15000 });
    const a = await frames(page);
    await sleep(800);
    const b = await frames(page);
    t.ok(b.n > a.n, `more frames arrived (${a.n} -> ${b.n})`);
    t.ok(b.seq > a.seq, `the decision changed (seq ${a.seq} -> ${b.seq})`);
    t.ok(b.n - a.n <= 10, `decimated to at most 10 frames/s (${b.n - a.n} in 0.8 s)`);
    const active = stack.daemon.models.current()!.id;
    t.equal(await page.textContent('#model-id'), active, 'the model shown is the active one');
    t.match(await page.textContent('#model'), /teacher/, 'provenance is shown');
    await page.waitForFunction(() => document.querySelectorAll('#streams tbody tr').length >= 3 && /Hz/.test(document.querySelector('#streams tbody')!.textContent ?? ''), undefined, { timeout: 5000 });
    t.match(await page.textContent('#loop'), /ticks\/s/, 'loop figures shown');
    await page.screenshot({ path: join(artifacts, 'device-before-swap.png') });

    // Swap: announce 0.2.0 to device "demo" (fetched over HTTP); the daemon takes it.
    const c = await mqtt.connectAsync(stack.broker!.url, { protocolVersion: 4 });
    const bundleUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/sample-0.2.0.erwb`;
    await c.publishAsync(announceTopic({ prefix: 'edgereward', fleet: 'demo' }, 'sample'), JSON.stringify(makeAnnouncement(v2bytes, { url: bundleUrl, rollout: { devices: ['demo'] } })), { qos: 1, retain: true });
    await c.endAsync();
    await page.waitForFunction(() => document.querySelector('#model-id')?.textContent === 'sample@0.2.0', undefined, { timeout: 20000 });
    t.equal(stack.daemon.models.current()!.id, 'sample@0.2.0', 'the daemon activated 0.2.0');
    await page.waitForFunction(() => /activated/.test(document.querySelector('#events')?.textContent ?? ''), undefined, { timeout: 8000 });
    const list = (await page.textContent('#events')) ?? '';
    for (const e of ['received', 'verified', 'canary', 'activated']) t.match(list, new RegExp(e), `"${e}" is in the event list`);
    t.match(list, /passed, p99 [\d.]+ ms, budget/, 'with the canary figures');
    t.match(list, /now deciding with sample@0\.2\.0/, 'the loop-side swap is in the event list');
    await sleep(1200); // a status tick and some frames with the new model
    await page.screenshot({ path: join(artifacts, 'device.png') });
    copyFileSync(join(artifacts, 'device.png'), join(docsImg, 'live-device.png'));
    t.same(errors, [], 'no console errors, failed requests or exceptions');
    await page.context().close();
  });

  t.test('fleet page lists both running devices and the rollout', async (t) => {
    const { page, errors } = await open(fleet.url);
    await page.waitForFunction(() => document.querySelectorAll('#devices tbody tr[data-device]').length >= 2 && /online.*online/s.test(document.querySelector('#devices tbody')!.textContent ?? ''), undefined, { timeout: 15000 });
    const rows = await page.$$eval('#devices tbody tr[data-device]', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
    t.same(rows.map((r) => r[0]), ['demo', 'demo2'], 'both devices listed');
    t.same(rows.map((r) => r[1]), ['online', 'online'], 'both online');
    t.equal(rows[0]![2], 'sample@0.2.0', 'demo runs the swapped model');
    t.equal(rows[1]![2], shippedModelId(), 'demo2 runs the shipped model');
    await page.waitForFunction(() => /sample@0\.2\.0/.test(document.querySelector('#rollouts')?.textContent ?? ''), undefined, { timeout: 5000 });
    const r = (await page.textContent('#rollouts')) ?? '';
    t.match(r, /devices demo · 1 targeted/, 'the selector and the targeted count');
    t.match(r, /demo: activated/, 'the targeted device activated');
    await sleep(1100);
    await page.screenshot({ path: join(artifacts, 'fleet.png') });
    copyFileSync(join(artifacts, 'fleet.png'), join(docsImg, 'live-fleet.png'));
    t.same(errors, [], 'no console errors');
    await page.context().close();
  });

  t.test('bound beyond loopback: a request without the token is refused', async (t) => {
    const port = port2;
    const lan = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    const host = lan ?? '127.0.0.1';
    t.comment(lan ? `requests go to ${lan} (not loopback)` : 'no non-loopback interface here: requests go to 127.0.0.1 (the rule is the same: it depends on the bind address)');
    const base = `http://${host}:${port}`;
    for (const p of ['/', '/live', '/app/device.js', '/metrics', '/readyz', '/api/device.json']) {
      const r = await fetch(base + p, { redirect: 'manual' });
      t.equal(r.status, 401, `${p} without the token: 401`);
      await r.body?.cancel();
    }
    t.equal((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401, 'a wrong token: 401');
    t.equal((await fetch(`${base}/healthz`)).status, 200, '/healthz stays open (liveness probes)');
    t.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, 'with the bearer token: 200');
    const first = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' });
    t.equal(first.status, 303, '?token= answers with a redirect');
    t.equal(first.headers.get('location'), '/', '... to the page without the token in the URL');
    const cookie = first.headers.get('set-cookie') ?? '';
    t.match(cookie, /HttpOnly/, 'the cookie is HttpOnly');
    t.match(cookie, /SameSite=Strict/, 'and SameSite=Strict');
    const page = await fetch(`${base}/`, { headers: { cookie: cookie.split(';')[0]! } });
    t.equal(page.status, 200, 'the cookie opens the page');
    t.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/, 'strict CSP');
    t.equal((await fetch(`${base}/`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status, 405, 'read-only: POST is refused');
    // The loopback-bound daemon cannot be reached from another address at all.
    if (lan) await t.rejects(fetch(`http://${lan}:${stack.daemon.http!.port}/`), 'the loopback-bound page is not reachable from the LAN address');
    // In a browser: ?token= once, then the cookie carries the page, its assets and its event stream.
    const b = await open(`${base}/?token=${TOKEN}`);
    await b.page.waitForFunction(() => Number(document.body.dataset['frames'] ?? 0) >= 2, undefined, { timeout: 10000 });
    t.equal(new URL(b.page.url()).search, '', 'the token left the address bar');
    t.equal(await b.page.textContent('#title'), 'demo2', 'the second device is shown');
    await b.page.screenshot({ path: join(artifacts, 'device-demo2.png') });
    t.same(b.errors, [], 'no console errors');
    await b.page.context().close();
    t.throws(() => loadConfig({ file: defaultConfigFile(), flags: { ...base0(), 'telemetry.host': '0.0.0.0' } }), /telemetry\.token/, 'a non-loopback bind without a token is a config error');
  });

  const base0 = () => ({ 'telemetry.port': 0, 'record.enabled': false });
}
