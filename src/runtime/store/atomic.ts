/**
 * Crash-safe file writes: a file that must survive power loss (a signing key, a stored
 * bundle, the last-known-good pointer) is written to a temp file in the same directory,
 * fsynced, renamed over the target, and the directory fsynced so the rename itself is
 * durable (DESIGN.md, conventions). A reader sees the old file or the new one, never half.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, fchmodSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

function tempPath(path: string): string {
  // Same directory as the target: rename(2) is only atomic within one file system.
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR); the rename is still done.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write `bytes` to `path` atomically and durably (synchronous: for the CLI and startup).
 * @param mode file mode, applied exactly (not reduced by the umask) when given; e.g. 0o600 for a private key.
 */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | string, mode?: number): void {
  const tmp = tempPath(path);
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const fd = openSync(tmp, 'wx', mode ?? 0o644);
  try {
    try {
      if (mode !== undefined) fchmodSync(fd, mode);
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already renamed or never created */ }
    throw e;
  }
  fsyncDirSync(dirname(path));
}

/** The same as {@link writeFileAtomicSync}, without blocking the event loop (for the daemon). */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string, mode?: number): Promise<void> {
  const tmp = tempPath(path);
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const fh = await open(tmp, 'wx', mode ?? 0o644);
  try {
    try {
      if (mode !== undefined) await fh.chmod(mode);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const dh = await open(dirname(path), 'r').catch(() => undefined);
  if (dh) {
    try { await dh.sync(); } catch { /* see fsyncDirSync */ } finally { await dh.close(); }
  }
}
