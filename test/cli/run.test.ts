/**
 * `edgereward run` on the embedded default (config/default.json: in-process broker, simulated
 * robot, the shipped model it names), as a real child process: it starts, decides (an action
 * message arrives), tells systemd READY=1 then WATCHDOG=1 on the NOTIFY_SOCKET we listen on,
 * and stops on SIGINT with exit code 0 and a retained `offline` status.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { notifyListener } from '../telemetry/notify-listener.js';
import { shippedModelId } from '../helpers/shipped.js';

t.test('the embedded default starts, decides, notifies systemd and stops on SIGINT', async (t) => {
  const notify = await notifyListener(t);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--live', 'off'], {
    env: { ...process.env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '400000', EDGEREWARD_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  // The daemon logs where the embedded broker listens (a free port).
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { msg?: string; mqtt?: string };
        if (m.msg === 'edgereward is running' && m.mqtt) resolve(m.mqtt);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`run exited early (${code}): ${stderr}`)));
  });
  t.match(url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);

  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  t.teardown(() => c.end(true));
  const action = new Promise<Record<string, unknown>>((resolve) => {
    c.on('message', (topic, payload) => {
      if (topic === 'edgereward/demo/action') resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
    });
  });
  await c.subscribeAsync('edgereward/demo/action');
  const a = await action;
  t.equal(a['model'], shippedModelId(), 'decided with the shipped model');
  t.type((a['action'] as Record<string, unknown>)['v'], 'number');
  t.type(a['seq'], 'number');

  const ready = await notify.waitFor((m) => m.includes('READY=1'));
  t.match(ready.message, new RegExp(`MAINPID=${child.pid}`));
  await notify.waitFor((m) => m.includes('WATCHDOG=1'), ready.index + 1);
  t.pass('READY=1 then WATCHDOG=1');

  // Watch the retained status: it must turn "offline" on a clean stop.
  const offline = new Promise<void>((resolve) => {
    c.on('message', (topic, payload) => {
      if (topic === 'edgereward/demo/status' && /"offline"/.test(payload.toString())) resolve();
    });
  });
  await c.subscribeAsync('edgereward/demo/status');
  child.kill('SIGINT');
  t.equal(await exited, 0, 'exit code 0 after SIGINT');
  await offline;
  t.pass('retained status turned offline');
  t.ok(notify.messages.some((m) => m.includes('STOPPING=1')), 'STOPPING=1 sent');
});
