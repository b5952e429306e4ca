import t from 'tap';
import { SystemdNotifier, startWatchdog, watchdogIntervalMs } from '../../src/telemetry/notify.js';
import { notifyListener } from './notify-listener.js';

t.test('watchdog interval from WATCHDOG_USEC, only for our pid', async (t) => {
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '4000000' }, 42), 4000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '4000000', WATCHDOG_PID: '42' }, 42), 4000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '4000000', WATCHDOG_PID: '7' }, 42), undefined);
  t.equal(watchdogIntervalMs({}, 42), undefined);
});

t.test('without NOTIFY_SOCKET nothing is sent', async (t) => {
  const n = new SystemdNotifier({ socket: undefined });
  t.equal(n.enabled, false);
  t.equal(await n.ready(), false);
});

t.test('READY=1 (with MAINPID) once healthy, then WATCHDOG=1 only while healthy', async (t) => {
  const l = await notifyListener(t);
  let healthy = false;
  const wd = startWatchdog({ notifier: new SystemdNotifier({ socket: l.path, pid: 4242 }), healthy: () => healthy, intervalMs: 100, status: () => 'deciding' });
  t.teardown(() => wd.stop());
  // Not healthy: nothing may arrive. (Let several intervals pass.)
  await new Promise((r) => setTimeout(r, 350));
  t.same(l.messages, [], 'no notification while the loop is not healthy');
  healthy = true;
  const ready = await l.waitFor((m) => m.includes('READY=1'));
  t.match(ready.message, /MAINPID=4242/);
  t.match(ready.message, /STATUS=deciding/);
  const wdog = await l.waitFor((m) => m.includes('WATCHDOG=1'), ready.index + 1);
  t.ok(wdog.index > ready.index, 'WATCHDOG=1 after READY=1');
  healthy = false;
  await new Promise((r) => setTimeout(r, 250)); // an in-flight ping may still land
  const n = l.messages.length;
  await new Promise((r) => setTimeout(r, 350));
  t.equal(l.messages.length, n, 'pings stop when the loop is unhealthy');
});
