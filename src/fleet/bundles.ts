/**
 * The fleet server's bundle directory, indexed by sha256 of each file. Re-scanned (at most
 * ten times a second) when a device asks for a bundle it does not know yet, so `fleet publish
 * --bundles DIR` (or a plain copy into DIR) is enough to make a new bundle servable.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isBundleBytes } from '../runtime/bundle/format.js';

interface Indexed {
  path: string;
  mtimeMs: number;
  size: number;
  sha256: string;
  bytes: Buffer | undefined;
}

export class BundleDir {
  private byPath = new Map<string, Indexed>();
  private bySha = new Map<string, Indexed>();
  private lastScan = 0;

  constructor(readonly dir: string, private readonly maxCached = 8) {}

  /** The bytes of the bundle with this sha256, or undefined. */
  get(sha256: string): Buffer | undefined {
    let e = this.bySha.get(sha256);
    if (!e && Date.now() - this.lastScan > 100) {
      this.scan();
      e = this.bySha.get(sha256);
    }
    if (!e) return undefined;
    if (!e.bytes) {
      e.bytes = readFileSync(e.path);
      const cached = [...this.byPath.values()].filter((x) => x.bytes);
      if (cached.length > this.maxCached) cached[0]!.bytes = undefined;
    }
    return e.bytes;
  }

  scan(): void {
    this.lastScan = Date.now();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const path = join(this.dir, n);
      let st;
      try { st = statSync(path); } catch { continue; }
      if (!st.isFile()) continue;
      const old = this.byPath.get(path);
      if (old && old.mtimeMs === st.mtimeMs && old.size === st.size) continue;
      const bytes = readFileSync(path);
      if (!isBundleBytes(bytes)) continue;
      const e: Indexed = { path, mtimeMs: st.mtimeMs, size: st.size, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: undefined };
      if (old) this.bySha.delete(old.sha256);
      this.byPath.set(path, e);
      this.bySha.set(e.sha256, e);
    }
  }
}
