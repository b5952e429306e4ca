/**
 * The recording directory's total size cap: oldest files deleted first (SD cards fill up).
 * File names sort by start time (`<prefix>-<UTC timestamp>-<n>.mcap`), so "oldest" is the
 * smallest name; the file being written is never deleted.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface RecordingFile {
  path: string;
  name: string;
  size: number;
}

/** The `.mcap` files of `dir`, oldest first. */
export async function listRecordings(dir: string): Promise<RecordingFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: RecordingFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.mcap')).sort()) {
    try {
      const s = await stat(join(dir, name));
      if (s.isFile()) out.push({ path: join(dir, name), name, size: s.size });
    } catch {
      // deleted meanwhile
    }
  }
  return out;
}

/**
 * Delete the oldest recordings until the directory's `.mcap` files hold at most
 * `maxTotalBytes`; `keep` (the file in progress) is never deleted. Returns the deleted files.
 */
export async function enforceCap(dir: string, maxTotalBytes: number, keep?: string): Promise<RecordingFile[]> {
  const files = await listRecordings(dir);
  let total = 0;
  for (const f of files) total += f.size;
  const deleted: RecordingFile[] = [];
  for (const f of files) {
    if (total <= maxTotalBytes) break;
    if (f.path === keep) continue;
    try {
      await unlink(f.path);
      total -= f.size;
      deleted.push(f);
    } catch {
      // already gone
    }
  }
  return deleted;
}

/** `edgereward-20240607T101112345Z-0001.mcap`: sortable, unique per recorder. */
export function recordingName(prefix: string, startMs: number, n: number): string {
  const ts = new Date(startMs).toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${prefix}-${ts}-${String(n).padStart(4, '0')}.mcap`;
}
