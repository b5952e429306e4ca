/**
 * Real pseudo-terminal pairs from socat for serial tests: what one end writes, the other
 * reads, through the kernel's tty layer and serialport's real bindings.
 *
 *   const pty = await ptyPair(t);         // pty.a, pty.b: stable symlink paths
 *   await pty.kill();                     // the device vanishes (both paths disappear)
 *   await pty.restart();                  // it comes back under the same paths
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Teardown } from './mosquitto.js';

export interface PtyPair {
  /** path of end A (a symlink to /dev/pts/N) */
  a: string;
  /** path of end B */
  b: string;
  /** unplug: stop socat and make sure both paths are gone */
  kill(): Promise<void>;
  /** plug back in: a new socat with the same paths; resolves when both exist */
  restart(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function ptyPair(t: Teardown): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'edgereward-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  let proc: ChildProcess | undefined;
  let logText = '';

  const launch = async (): Promise<void> => {
    const p = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    let ready = false;
    let exited = false;
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (d: string) => {
      if (logText.length < 20_000) logText += d;
      // socat prints this once both ptys exist and it is relaying.
      if (d.includes('starting data transfer loop')) ready = true;
    });
    p.once('exit', () => (exited = true));
    p.once('error', (e) => {
      exited = true;
      logText += `\n${e.message}`;
    });
    for (let i = 0; i < 200; i++) {
      if (exited) throw new Error(`socat exited at start (is it installed? apt-get install -y socat):\n${logText}`);
      if (ready && existsSync(a) && existsSync(b)) return;
      await sleep(25);
    }
    p.kill('SIGKILL');
    throw new Error(`socat did not create ${a} and ${b} within 5 s:\n${logText}`);
  };

  const halt = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM'); // socat removes its links on a clean exit
      });
    }
    // …and if it did not, the device path must vanish anyway, as on a USB unplug.
    rmSync(a, { force: true });
    rmSync(b, { force: true });
  };

  await launch();
  t.teardown(async () => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    a,
    b,
    kill: halt,
    restart: async () => {
      await halt();
      await launch();
    },
  };
}
