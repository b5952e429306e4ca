/** The live pages' access rule and headers, without a browser (node:http + fetch). */
import t from 'tap';
import { createWebHandler, isLoopbackHost, startWebServer, webAccess, CSP } from '../../src/telemetry/web/http.js';

t.test('loopback addresses', async (t) => {
  for (const h of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'robot.local', '128.0.0.1']) t.notOk(isLoopbackHost(h), h);
});

t.test('a non-loopback bind needs a token of 16+ characters', async (t) => {
  t.same(webAccess('127.0.0.1', ''), { required: false, token: '' });
  t.throws(() => webAccess('0.0.0.0', ''), { code: 'E_WEB_TOKEN' });
  t.throws(() => webAccess('0.0.0.0', 'short'), { code: 'E_WEB_TOKEN' });
  t.same(webAccess('0.0.0.0', 'x'.repeat(16)), { required: true, token: 'x'.repeat(16) });
});

t.test('token, cookie, headers, read-only', async (t) => {
  const token = 'abcdefghijklmnopqrstuvwx';
  const handler = createWebHandler({ access: webAccess('0.0.0.0', token), page: 'device', routes: { '/api/x.json': (_q, r) => void r.end('{}') } });
  const s = await startWebServer({ host: '127.0.0.1', port: 0, handler });
  t.teardown(() => s.close());
  const u = (p: string) => `http://127.0.0.1:${s.port}${p}`;
  const r401 = await fetch(u('/'));
  t.equal(r401.status, 401);
  t.match(r401.headers.get('www-authenticate') ?? '', /Bearer/);
  t.equal((await fetch(u('/api/x.json'))).status, 401, 'routes too');
  t.equal((await fetch(u('/app/style.css'))).status, 401, 'assets too');
  t.equal((await fetch(u('/?token=wrong'), { redirect: 'manual' })).status, 401, 'a wrong ?token=');
  t.equal((await fetch(u('/healthz'))).status, 200, '/healthz is open');
  const ok = await fetch(u('/app/style.css'), { headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('content-security-policy'), CSP);
  t.equal(ok.headers.get('x-content-type-options'), 'nosniff');
  const red = await fetch(u(`/?a=1&token=${token}`), { redirect: 'manual' });
  t.equal(red.status, 303);
  t.equal(red.headers.get('location'), '/?a=1', 'the token leaves the URL, other parameters stay');
  const cookie = red.headers.get('set-cookie')!.split(';')[0]!;
  const page = await fetch(u('/'), { headers: { cookie: `other=1; ${cookie}` } });
  t.equal(page.status, 200);
  const html = await page.text();
  t.notMatch(html, /<script>|<style>|style=/, 'no inline script or style');
  t.match(html, /<script type="module" src="\/app\/device.js">/);
  t.equal((await fetch(u('/'), { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 405);
  t.equal((await fetch(u('/app/../../package.json'), { headers: { authorization: `Bearer ${token}` } })).status, 404, 'no path traversal');
});
