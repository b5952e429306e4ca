/**
 * A REAL mosquitto for tests: started on a free loopback port with a generated config in a
 * temp dir, awaited until it accepts TCP connections, and killed in the test's teardown.
 *
 *   const broker = await startMosquitto(t);                      // mqtt://127.0.0.1:<port>
 *   const tls = await startMosquitto(t, { tls: { ca, cert, key, requireCertificate: true } });
 *   await broker.kill();  await broker.restart();                 // crash + come back, same port
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The subset of a tap Test the helpers need (teardown registration). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface MosquittoOptions {
  /** fixed port (default: a free one) */
  port?: number;
  /** TLS listener: PEM file paths; `requireCertificate` demands a client certificate */
  tls?: { ca: string; cert: string; key: string; requireCertificate?: boolean };
  /** username -> password; when given, anonymous clients are refused */
  users?: Record<string, string>;
  /** extra lines for mosquitto.conf */
  extra?: string[];
}

export interface Mosquitto {
  url: string;
  port: number;
  /** graceful stop (SIGTERM), resolves when the process has exited */
  stop(): Promise<void>;
  /** crash (SIGKILL), resolves when the process has exited */
  kill(): Promise<void>;
  /** start again on the same port and config; resolves when it accepts connections */
  restart(): Promise<void>;
  /** the broker's log so far (stderr), for failure messages */
  log(): string;
}

export function mosquittoPath(): string {
  for (const p of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) if (existsSync(p)) return p;
  const w = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (w.status === 0 && w.stdout.trim()) return w.stdout.trim();
  throw new Error('mosquitto is not installed: apt-get install -y mosquitto (.ci/run does this)');
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startMosquitto(t: Teardown, o: MosquittoOptions = {}): Promise<Mosquitto> {
  const bin = mosquittoPath();
  const dir = mkdtempSync(join(tmpdir(), 'edgereward-mosq-'));
  const port = o.port ?? (await freePort());
  const conf = [`listener ${port} 127.0.0.1`, 'persistence false',
    // as root, mosquitto drops to user "mosquitto", which cannot read our 0700 temp dir
    ...(process.getuid?.() === 0 ? ['user root'] : []), 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice'];
  if (o.tls) {
    conf.push(`cafile ${o.tls.ca}`, `certfile ${o.tls.cert}`, `keyfile ${o.tls.key}`, `require_certificate ${o.tls.requireCertificate ? 'true' : 'false'}`);
  }
  if (o.users) {
    const pw = join(dir, 'passwd');
    let first = true;
    for (const [u, p] of Object.entries(o.users)) {
      const r = spawnSync('mosquitto_passwd', [...(first ? ['-c'] : []), '-b', pw, u, p], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
      first = false;
    }
    conf.push('allow_anonymous false', `password_file ${pw}`);
  } else conf.push('allow_anonymous true');
  conf.push(...(o.extra ?? []));
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, conf.join('\n') + '\n');

  let proc: ChildProcess | undefined;
  let logText = '';

  const launch = async (): Promise<void> => {
    const p = spawn(bin, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (d: string) => {
      if (logText.length < 100_000) logText += d;
    });
    let exited = false;
    p.once('exit', () => (exited = true));
    for (let i = 0; i < 200; i++) {
      if (exited) throw new Error(`mosquitto exited at start (port ${port}):\n${logText}`);
      if (await canConnect(port)) return;
      await sleep(25);
    }
    p.kill('SIGKILL');
    throw new Error(`mosquitto did not accept connections on port ${port} within 5 s:\n${logText}`);
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  };

  await launch();
  t.teardown(async () => {
    await halt('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: `${o.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGKILL');
      await launch();
    },
    log: () => logText,
  };
}

/**
 * A throwaway PKI for TLS tests, made with the openssl CLI in a temp dir: a CA, a server
 * certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA.
 */
export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export function makeTestPki(t: Teardown): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'edgereward-pki-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=edgereward test CA']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    run(['req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=edgereward test ${who}`]);
    run(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', `${who}.ext`]);
  }
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
}
