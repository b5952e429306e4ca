/**
 * Watches a device path: serialport does not always emit `close` when a USB adapter is
 * unplugged (node-serialport#2043, #1465, #2351), so the link also checks that the path
 * still exists and still names the same device. `fs.watch` on the directory gives a fast
 * hint; a stat poll is the ground truth (inotify misses events on some filesystems, /dev
 * symlinks in /dev/serial/by-id are recreated by udev).
 */
import { stat, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** Identity of the device a path currently points at (follows symlinks), or undefined. */
export interface DeviceIdentity {
  dev: number;
  ino: number;
  rdev: number;
}

export function sameDevice(a: DeviceIdentity | undefined, b: DeviceIdentity | undefined): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino && a.rdev === b.rdev;
}

export function identify(path: string): Promise<DeviceIdentity | undefined> {
  return new Promise((resolve) => stat(path, (err, s) => resolve(err ? undefined : { dev: s.dev, ino: s.ino, rdev: s.rdev })));
}

/**
 * Calls `onChange(identity)` whenever what `path` points at changes (appears, vanishes, or is
 * replaced). Returns a stop function.
 */
export function watchDevice(path: string, intervalMs: number, onChange: (id: DeviceIdentity | undefined) => void, initial?: DeviceIdentity): () => void {
  let last = initial;
  let stopped = false;
  let busy = false;
  const check = () => {
    if (busy || stopped) return;
    busy = true;
    void identify(path).then((id) => {
      busy = false;
      if (stopped) return;
      if ((id === undefined) !== (last === undefined) || (id && last && !sameDevice(id, last))) {
        last = id;
        onChange(id);
      }
    });
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  let w: FSWatcher | undefined;
  try {
    w = watch(dirname(path), { persistent: false }, () => check());
    w.on('error', () => {});
  } catch {
    w = undefined; // directory missing or inotify unavailable: the poll still runs
  }
  return () => {
    stopped = true;
    clearInterval(timer);
    w?.close();
  };
}
