/**
 * `edgereward run [--config FILE] [flags]`: the daemon. Without --config it runs
 * config/default.json, the embedded demo (in-process broker + simulated robot), which is what
 * `npm start` does. Stops cleanly on SIGINT/SIGTERM (exit 0).
 */
import type { Command } from 'commander';

interface RunOpts {
  config?: string;
  device?: string;
  mqttUrl?: string;
  model?: string;
  trust?: string;
  httpPort?: string;
  logLevel?: string;
  rate?: string;
  live?: string;
  record?: string | boolean;
  foxglove?: string | boolean;
  set: string[];
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  program
    .command('run')
    .description('run the daemon: sensor streams -> reward model -> actions (default: the embedded demo)')
    .option('--config <file>', 'configuration file (default: $EDGEREWARD_CONFIG, else config/default.json, the embedded demo)')
    .option('--device <id>', 'device.id')
    .option('--mqtt-url <url>', 'mqtt.url (and mqtt.broker=external)')
    .option('--model <bundle>', 'model.bundle')
    .option('--trust <dirs>', 'model.trust (comma-separated)')
    .option('--http-port <port>', 'telemetry.port (-1 = off, 0 = free port)')
    .option('--log-level <level>', 'telemetry.logLevel')
    .option('--rate <hz>', 'loop.rateHz (and no trigger)')
    .option('--live <mode>', 'telemetry.live: auto, on, off')
    .option('--record <dir>', 'record.dir (and record.enabled): MCAP recordings of sensors, decisions and model events')
    .option('--no-record', 'record.enabled=false (e.g. to keep the demo from recording)')
    .option('--foxglove [port]', 'foxglove.enabled (and foxglove.port): serve the Foxglove WebSocket protocol')
    .option('--set <key=value>', 'any setting, e.g. --set loop.deadlineMs=10 (repeatable)', collect, [])
    .action(async (o: RunOpts) => {
      const { loadConfig, defaultConfigFile } = await import('../config/load.js');
      const { EdgeError } = await import('../errors.js');
      const flags: Record<string, unknown> = {};
      for (const kv of o.set) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new EdgeError('E_CLI_ARG', `--set needs key=value, got "${kv}"`);
        flags[kv.slice(0, i)] = kv.slice(i + 1);
      }
      if (o.device !== undefined) flags['device.id'] = o.device;
      if (o.mqttUrl !== undefined) Object.assign(flags, { 'mqtt.url': o.mqttUrl, 'mqtt.broker': 'external' });
      if (o.model !== undefined) flags['model.bundle'] = o.model;
      if (o.trust !== undefined) flags['model.trust'] = o.trust;
      if (o.httpPort !== undefined) flags['telemetry.port'] = o.httpPort;
      if (o.logLevel !== undefined) flags['telemetry.logLevel'] = o.logLevel;
      if (o.rate !== undefined) Object.assign(flags, { 'loop.rateHz': o.rate, 'loop.trigger': '' });
      if (o.live !== undefined) flags['telemetry.live'] = o.live;
      if (typeof o.record === 'string') Object.assign(flags, { 'record.dir': o.record, 'record.enabled': true });
      else if (o.record === false) flags['record.enabled'] = false;
      if (o.foxglove !== undefined) Object.assign(flags, { 'foxglove.enabled': true }, typeof o.foxglove === 'string' ? { 'foxglove.port': o.foxglove } : {});
      const file = o.config ?? (process.env['EDGEREWARD_CONFIG'] || defaultConfigFile());
      const cfg = loadConfig({ file, flags });

      const { setLogLevel, log } = await import('../telemetry/log.js');
      setLogLevel(cfg.telemetry.logLevel);
      const { startStack } = await import('../demo/stack.js');
      const { startLiveLine } = await import('../telemetry/live.js');
      const stack = await startStack(cfg);
      const page = stack.daemon.web && stack.daemon.http ? stack.daemon.http.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:') + '/' : undefined;
      if (page) process.stderr.write(`live view: ${page}${cfg.telemetry.token ? '?token=<telemetry.token>' : ''}\n`);
      const live = cfg.telemetry.live === 'off' ? undefined : startLiveLine({ snapshot: () => stack.snapshot(), ...(cfg.telemetry.live === 'on' ? { tty: process.stderr.isTTY === true } : {}) });

      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals): void => {
          if (++signals > 1) {
            log.warn({ signal: sig }, 'second signal: exiting without a clean stop');
            process.exit(1);
          }
          log.info({ signal: sig }, 'stopping');
          live?.stop();
          stack.stop().then(resolve, (e: unknown) => {
            log.error({ err: String(e) }, 'stop failed');
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      // Let pino flush, then leave even if a library left a handle open.
      setTimeout(() => process.exit(0), 50).unref();
    });
}
