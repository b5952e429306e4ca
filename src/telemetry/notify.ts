/**
 * systemd readiness and watchdog notifications (sd_notify protocol: datagrams such as
 * `READY=1` or `WATCHDOG=1` on the unix socket named by $NOTIFY_SOCKET).
 *
 * Node's dgram has no unix datagram sockets, so we run systemd's own `systemd-notify`
 * (present wherever systemd is). Its messages come from a child process, so the unit needs
 * `NotifyAccess=all`; systemd >= 246 makes systemd-notify wait (BARRIER=1) until the message
 * was processed, so it is attributed to our unit before the child exits. docs/operations.md
 * explains this choice over the native `sd-notify` package (node-gyp build, no prebuilds).
 */
import { execFile } from 'node:child_process';
import { moduleLogger } from './log.js';
import { describeError } from '../errors.js';

const log = moduleLogger('notify');

export interface NotifierOptions {
  /** Default process.env.NOTIFY_SOCKET; without it every call is a no-op. */
  socket?: string | undefined;
  /** Default `systemd-notify`. */
  bin?: string;
  /** Our pid, sent as MAINPID with READY (default process.pid). */
  pid?: number;
}

export class SystemdNotifier {
  readonly enabled: boolean;
  private readonly socket: string | undefined;
  private readonly bin: string;
  private readonly pid: number;
  private busy = false;
  private broken = false;
  private inflight: Promise<boolean> = Promise.resolve(true);

  constructor(o: NotifierOptions = {}) {
    this.socket = 'socket' in o ? o.socket : process.env['NOTIFY_SOCKET'];
    this.bin = o.bin ?? 'systemd-notify';
    this.pid = o.pid ?? process.pid;
    this.enabled = typeof this.socket === 'string' && this.socket !== '';
  }

  /**
   * Send one notification. Returns false (and sends nothing) when disabled or while the
   * previous one is still being delivered: a watchdog ping never queues behind a slow one.
   */
  send(lines: string[], withPid = false): Promise<boolean> {
    if (!this.enabled || this.broken || this.busy) return Promise.resolve(false);
    this.busy = true;
    const args = withPid ? [`--pid=${this.pid}`, ...lines] : lines;
    return (this.inflight = new Promise<boolean>((resolve) => {
      execFile(this.bin, args, { env: { ...process.env, NOTIFY_SOCKET: this.socket }, timeout: 5000 }, (err) => {
        this.busy = false;
        if (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            this.broken = true;
            log.error({ bin: this.bin }, `${this.bin} is not installed, so systemd gets no READY/WATCHDOG notifications; install systemd or run without Type=notify`);
          } else log.warn({ err: describeError(err) }, 'a systemd notification failed');
          resolve(false);
          return;
        }
        resolve(true);
      });
    }));
  }

  ready(status?: string): Promise<boolean> {
    return this.send(status ? ['READY=1', `STATUS=${status}`] : ['READY=1'], true);
  }
  watchdog(): Promise<boolean> {
    return this.send(['WATCHDOG=1']);
  }
  /** STOPPING=1 must not be lost behind a watchdog ping still in flight: wait for it, then send. */
  async stopping(): Promise<boolean> {
    await this.inflight;
    return this.send(['STOPPING=1']);
  }
}

/** The watchdog period systemd asked for ($WATCHDOG_USEC for our pid), in ms; undefined if none. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!(usec > 0)) return undefined;
  const wpid = env['WATCHDOG_PID'];
  if (wpid !== undefined && wpid !== '' && Number(wpid) !== pid) return undefined;
  return usec / 1000;
}

export interface WatchdogOptions {
  notifier: SystemdNotifier;
  /** Is the decision loop healthy now? READY and WATCHDOG are sent only while it is. */
  healthy: () => boolean;
  /** Ping period; default half of $WATCHDOG_USEC, else 1000 ms. */
  intervalMs?: number;
  status?: () => string;
}

/**
 * READY=1 once the loop is first healthy, then WATCHDOG=1 every interval while it stays
 * healthy. A hung or failing loop stops the pings and systemd restarts us (WatchdogSec).
 */
export function startWatchdog(o: WatchdogOptions): { stop(): void; readonly readySent: boolean } {
  const interval = o.intervalMs ?? (watchdogIntervalMs() ?? 2000) / 2;
  let ready = false;
  const tick = (): void => {
    if (!o.healthy()) return;
    if (!ready) {
      void o.notifier.ready(o.status?.()).then((ok) => {
        if (ok) ready = true;
      });
      return;
    }
    void o.notifier.watchdog();
  };
  const timer = setInterval(tick, Math.max(50, interval));
  timer.unref();
  setImmediate(tick);
  return {
    stop: () => clearInterval(timer),
    get readySent() {
      return ready;
    },
  };
}
