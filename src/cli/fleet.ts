/**
 * `edgereward fleet serve|publish|status|rollback`: the fleet side of model updates.
 * Thin: parse flags, call src/fleet, print.
 */
import type { Command } from 'commander';

interface Common { broker: string; fleet: string; prefix: string; username?: string; password?: string }

const broker = (c: Command): Command =>
  c.requiredOption('--broker <url>', 'MQTT broker URL, e.g. mqtt://broker:1883')
    .requiredOption('--fleet <name>', 'fleet name')
    .option('--prefix <topic>', 'topic prefix', 'edgereward')
    .option('--username <user>', 'broker user name')
    .option('--password <password>', 'broker password (prefer $EDGEREWARD_MQTT_PASSWORD)');

const creds = (o: Common) => ({
  url: o.broker, prefix: o.prefix,
  ...(o.username ? { username: o.username } : {}),
  ...((o.password ?? process.env['EDGEREWARD_MQTT_PASSWORD']) ? { password: o.password ?? process.env['EDGEREWARD_MQTT_PASSWORD']! } : {}),
});

export function register(program: Command): void {
  const fleet = program.command('fleet').description('publish signed models to a fleet, serve them, watch devices, roll back');

  broker(fleet.command('serve'))
    .description('serve chunk requests of devices and record their events (run one or more)')
    .requiredOption('--bundles <dir>', 'directory of bundles to serve (fleet publish --bundles copies them there)')
    .option('--group <name>', 'MQTT 5 shared-subscription group (servers in one group share the load)', 'edgereward-fleet')
    .option('--coalesce-ms <ms>', 'gather chunk requests this long before broadcasting', '200')
    .option('--events-log <file>', 'append every device event to this JSON-lines file')
    .option('--http <port>', 'serve the fleet page (devices, rollouts) on this port (0 = a free port)')
    .option('--http-host <addr>', 'address of the fleet page; anything but loopback needs --http-token', '127.0.0.1')
    .option('--http-token <token>', 'bearer token of the fleet page (prefer $EDGEREWARD_FLEET_TOKEN)')
    .action(async (o: Common & { bundles: string; group: string; coalesceMs: string; eventsLog?: string; http?: string; httpHost: string; httpToken?: string }) => {
      const { FleetServer } = await import('../fleet/server.js');
      const s = new FleetServer({ ...creds(o), fleet: o.fleet, bundles: o.bundles, group: o.group, coalesceMs: Number(o.coalesceMs), ...(o.eventsLog ? { eventsLog: o.eventsLog } : {}) });
      await s.start();
      process.stderr.write(`serving fleet "${o.fleet}" from ${o.bundles} via ${o.broker} (group ${o.group}); Ctrl-C stops\n`);
      const token = o.httpToken ?? process.env['EDGEREWARD_FLEET_TOKEN'] ?? '';
      const page = o.http === undefined ? undefined : await (await import('../telemetry/web/index.js')).startFleetPage({ ...creds(o), fleet: o.fleet, prefix: o.prefix, host: o.httpHost, port: Number(o.http), token });
      if (page) process.stderr.write(`fleet page: ${page.url}${token ? '?token=<token>' : ''}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => void Promise.all([s.close(), page?.close()]).then(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write(`served ${s.stats.requests} requests, ${s.stats.chunksSent} chunks (${s.stats.bytesSent} bytes) in ${s.stats.broadcasts} broadcasts; ${s.stats.events} device events\n`);
    });

  broker(fleet.command('publish <bundle>'))
    .description('announce a signed bundle to the fleet (retained); devices it selects download, verify, canary and activate it')
    .option('--rollout <percent>', 'only this share of devices, e.g. 10% (stable per device)')
    .option('--devices <ids>', 'only these devices (comma-separated)')
    .option('--tags <tags>', 'only devices with one of these tags (comma-separated)')
    .option('--chunk-size <size>', 'MQTT chunk size', '64KiB')
    .option('--bundles <dir>', "copy the bundle into the fleet server's bundles directory")
    .option('--url <url>', 'devices fetch the bundle from this HTTP(S) URL instead of MQTT chunks')
    .action(async (file: string, o: Common & { rollout?: string; devices?: string; tags?: string; chunkSize: string; bundles?: string; url?: string }) => {
      const { parseRollout, parseSize } = await import('../fleet/announce.js');
      const { publishBundle } = await import('../fleet/ops.js');
      const rollout = parseRollout(o);
      const r = await publishBundle({ ...creds(o), fleet: o.fleet, bundle: file, chunkSize: parseSize(o.chunkSize), ...(rollout ? { rollout } : {}), ...(o.bundles ? { bundles: o.bundles } : {}), ...(o.url ? { bundleUrl: o.url } : {}) });
      const a = r.announcement;
      const sel = a.rollout ? [a.rollout.percent !== undefined ? `${a.rollout.percent}% of devices` : '', a.rollout.devices ? `devices ${a.rollout.devices.join(',')}` : '', a.rollout.tags ? `tags ${a.rollout.tags.join(',')}` : ''].filter(Boolean).join(' or ') : 'every device';
      process.stdout.write(`published ${a.model}@${a.version} to fleet "${o.fleet}" on ${r.topic}\n  ${a.size} bytes, sha256 ${a.sha256.slice(0, 16)}…, ${a.url ? `from ${a.url}` : `${a.chunks} chunks of ${a.chunk_size} bytes`}, signed by key ${a.signature.key_id}\n  for ${sel}\n${r.copiedTo ? `  copied to ${r.copiedTo}\n` : ''}`);
    });

  broker(fleet.command('status'))
    .description('a table of the fleet: device, online, model@version, last update event, decision p99')
    .option('--wait-ms <ms>', 'how long to collect retained status and events', '1500')
    .option('--all', 'also devices that never said which fleet they follow')
    .option('--json', 'print JSON rows')
    .action(async (o: Common & { waitMs: string; all?: boolean; json?: boolean }) => {
      const { fleetStatus, formatStatus } = await import('../fleet/ops.js');
      const rows = await fleetStatus({ ...creds(o), fleet: o.fleet, waitMs: Number(o.waitMs), all: o.all === true });
      process.stdout.write(o.json ? JSON.stringify(rows, null, 1) + '\n' : rows.length ? formatStatus(rows) + '\n' : `no devices of fleet "${o.fleet}" seen on ${o.broker}\n`);
    });

  broker(fleet.command('rollback'))
    .description('revoke the announced version of a model: devices running it go back to their last-known-good')
    .requiredOption('--model <name>', 'model name')
    .requiredOption('--key <file>', 'the publisher private key (the revocation is signed like a bundle)')
    .option('--version <version>', 'the version to revoke (default: the one announced now)')
    .action(async (o: Common & { model: string; key: string; version?: string }) => {
      const { loadPrivateKey } = await import('../runtime/bundle/keys.js');
      const { revokeModel } = await import('../fleet/ops.js');
      const r = await revokeModel({ ...creds(o), fleet: o.fleet, model: o.model, privateKeyPem: loadPrivateKey(o.key), ...(o.version ? { version: o.version } : {}) });
      process.stdout.write(`revoked ${r.model}@${r.version} in fleet "${o.fleet}"; devices running it roll back to their last-known-good (watch: edgereward fleet status --broker ${o.broker} --fleet ${o.fleet})\n`);
    });
}
