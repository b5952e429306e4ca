/**
 * The versioned on-disk model store of a device.
 *
 *   <dir>/versions/<name>@<version>-<sha12>.erwb   verified bundles, written atomically
 *   <dir>/state.json                                the pointers, written atomically
 *
 * `state.json` holds the `active` model, the `lastKnownGood` one (the model that ran before
 * the active one and had proven itself), whether the active model is `confirmed` yet, a
 * `boots` counter (daemon starts since the active model was activated without being
 * confirmed: crash-loop detection) and `blocked` bundles (rejected or rolled back: a retained
 * announcement of them is not taken again). Every change is a temp file + fsync + rename +
 * directory fsync (atomic.ts), so a power cut or SIGKILL leaves the old state or the new one.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeError, describeError } from '../../errors.js';
import { compile } from '../../validate.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { moduleLogger } from '../../telemetry/log.js';

const log = moduleLogger('store');

export interface StoreEntry {
  /** name@version */
  id: string;
  name: string;
  version: string;
  sha256: string;
  /** File name under versions/. */
  file: string;
  size: number;
  /** Unix ms when stored. */
  stored: number;
}

export interface BlockedEntry {
  id: string;
  sha256: string;
  reason: string;
  t: number;
}

export interface StoreState {
  format: 1;
  active: StoreEntry | null;
  lastKnownGood: StoreEntry | null;
  confirmed: boolean;
  boots: number;
  /** Unix ms of the last pointer change. */
  changed: number;
  blocked: BlockedEntry[];
  entries: StoreEntry[];
}

const entrySchema = {
  type: 'object',
  required: ['id', 'name', 'version', 'sha256', 'file', 'size', 'stored'],
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    file: { type: 'string', pattern: '^[A-Za-z0-9@._+-]{1,200}$' }, size: { type: 'integer', minimum: 0 }, stored: { type: 'number' },
  },
};
const validateState = compile<StoreState>({
  type: 'object',
  required: ['format', 'active', 'lastKnownGood', 'confirmed', 'boots', 'blocked', 'entries'],
  properties: {
    format: { const: 1 },
    active: { anyOf: [{ type: 'null' }, entrySchema] },
    lastKnownGood: { anyOf: [{ type: 'null' }, entrySchema] },
    confirmed: { type: 'boolean' },
    boots: { type: 'integer', minimum: 0 },
    changed: { type: 'number' },
    blocked: { type: 'array', items: { type: 'object', required: ['id', 'sha256', 'reason', 't'] } },
    entries: { type: 'array', items: entrySchema },
  },
});

const MAX_BLOCKED = 64;

export interface BootChoice {
  entry: StoreEntry | null;
  /** Set when boot moved off the active model (crash loop, or the active file is unreadable). */
  rolledBack?: { from: string; reason: 'crash_loop' | 'unreadable'; to: string | null };
}

export class ModelStore {
  readonly dir: string;
  readonly versionsDir: string;
  readonly statePath: string;
  private st: StoreState;

  private constructor(dir: string, st: StoreState) {
    this.dir = dir;
    this.versionsDir = join(dir, 'versions');
    this.statePath = join(dir, 'state.json');
    this.st = st;
  }

  /** Open (creating) the store; removes temp files a killed writer left behind. */
  static open(dir: string): ModelStore {
    try {
      mkdirSync(join(dir, 'versions'), { recursive: true });
    } catch (e) {
      throw new EdgeError('E_STORE_DIR', `cannot create the model store ${dir} (${describeError(e)}); set model.dir to a writable directory (systemd: StateDirectory=edgereward)`, { cause: e });
    }
    const s = new ModelStore(dir, ModelStore.emptyState());
    s.st = s.readState();
    s.sweepTemp();
    return s;
  }

  static emptyState(): StoreState {
    return { format: 1, active: null, lastKnownGood: null, confirmed: false, boots: 0, changed: 0, blocked: [], entries: [] };
  }

  /** A copy of the pointers. */
  get state(): Readonly<StoreState> {
    return this.st;
  }

  /** Re-read state.json (another process — `edgereward rollback` — may have changed it). Returns true when it changed. */
  reload(): boolean {
    const before = JSON.stringify(this.st);
    this.st = this.readState();
    return JSON.stringify(this.st) !== before;
  }

  private readState(): StoreState {
    let text: string;
    try {
      text = readFileSync(this.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ModelStore.emptyState();
      throw new EdgeError('E_STORE_READ', `cannot read ${this.statePath} (${describeError(e)}); check its permissions`, { cause: e });
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      v = undefined;
    }
    if (!validateState(v)) {
      // Only reachable by hand-editing or disk corruption (writes are atomic): rebuild from the files.
      log.error({ path: this.statePath }, 'the model store state is corrupt; rebuilding it from the stored bundles (nothing active until one is chosen)');
      const st = ModelStore.emptyState();
      st.entries = this.scanVersions();
      return st;
    }
    v.changed ??= 0;
    return v;
  }

  private scanVersions(): StoreEntry[] {
    const out: StoreEntry[] = [];
    for (const f of readdirSync(this.versionsDir)) {
      const m = /^([a-z0-9][a-z0-9._-]*)@(.+)-([0-9a-f]{12})\.erwb$/.exec(f);
      if (!m) continue;
      const st = statSync(join(this.versionsDir, f));
      out.push({ id: `${m[1]}@${m[2]}`, name: m[1]!, version: m[2]!, sha256: m[3]!.padEnd(64, '0'), file: f, size: st.size, stored: st.mtimeMs });
    }
    return out;
  }

  private sweepTemp(): void {
    for (const d of [this.dir, this.versionsDir]) {
      for (const f of readdirSync(d)) {
        if (f.startsWith('.') && f.endsWith('.tmp')) {
          try { unlinkSync(join(d, f)); } catch { /* raced with another sweeper */ }
        }
      }
    }
  }

  private async save(): Promise<void> {
    this.st.changed = Date.now();
    await writeFileAtomic(this.statePath, JSON.stringify(this.st, null, 1));
  }

  private saveSync(): void {
    this.st.changed = Date.now();
    writeFileAtomicSync(this.statePath, JSON.stringify(this.st, null, 1));
  }

  pathOf(e: StoreEntry): string {
    return join(this.versionsDir, e.file);
  }

  find(id: string, sha256?: string): StoreEntry | undefined {
    return this.st.entries.find((e) => e.id === id && (sha256 === undefined || e.sha256 === sha256));
  }

  read(e: StoreEntry): Buffer {
    return readFileSync(this.pathOf(e));
  }

  isBlocked(sha256: string): BlockedEntry | undefined {
    return this.st.blocked.find((b) => b.sha256 === sha256);
  }

  /** Write a verified bundle into versions/ (atomically) and record it; idempotent per sha256. */
  async put(bytes: Uint8Array, info: { name: string; version: string; sha256: string }): Promise<StoreEntry> {
    const id = `${info.name}@${info.version}`;
    const have = this.find(id, info.sha256);
    if (have) return have;
    const file = `${id}-${info.sha256.slice(0, 12)}.erwb`;
    await writeFileAtomic(join(this.versionsDir, file), bytes);
    const e: StoreEntry = { id, name: info.name, version: info.version, sha256: info.sha256, file, size: bytes.length, stored: Date.now() };
    this.st.entries = this.st.entries.filter((x) => x.file !== file);
    this.st.entries.push(e);
    await this.save();
    return e;
  }

  /** Synchronous `put` for the CLI and boot (importing the configured bundle). */
  putSync(bytes: Uint8Array, info: { name: string; version: string; sha256: string }): StoreEntry {
    const id = `${info.name}@${info.version}`;
    const have = this.find(id, info.sha256);
    if (have) return have;
    const file = `${id}-${info.sha256.slice(0, 12)}.erwb`;
    writeFileAtomicSync(join(this.versionsDir, file), bytes);
    const e: StoreEntry = { id, name: info.name, version: info.version, sha256: info.sha256, file, size: bytes.length, stored: Date.now() };
    this.st.entries = this.st.entries.filter((x) => x.file !== file);
    this.st.entries.push(e);
    this.saveSync();
    return e;
  }

  /**
   * Make `e` active, unconfirmed. A confirmed previous active becomes the last-known-good
   * (an unconfirmed one does not: it never proved itself).
   */
  async activate(e: StoreEntry): Promise<void> {
    const prev = this.st.active;
    if (prev && prev.sha256 !== e.sha256 && this.st.confirmed) this.st.lastKnownGood = prev;
    this.st.active = e;
    this.st.confirmed = false;
    this.st.boots = 0;
    await this.save();
  }

  /** The active model ran well (canary + probation): it may become a last-known-good. */
  async confirm(): Promise<void> {
    if (this.st.confirmed && this.st.boots === 0) return;
    this.st.confirmed = true;
    this.st.boots = 0;
    await this.save();
  }

  /** Import a model as active and confirmed (the configured bundle on first boot). */
  adoptSync(e: StoreEntry): void {
    if (this.st.active && this.st.active.sha256 !== e.sha256 && this.st.confirmed) this.st.lastKnownGood = this.st.active;
    this.st.active = e;
    this.st.confirmed = true;
    this.st.boots = 0;
    this.saveSync();
  }

  /** Remember that this bundle must not be taken again (rejected, rolled back, revoked). */
  async block(e: Pick<StoreEntry, 'id' | 'sha256'>, reason: string): Promise<void> {
    this.addBlock(e, reason);
    await this.save();
  }

  private addBlock(e: Pick<StoreEntry, 'id' | 'sha256'>, reason: string): void {
    this.st.blocked = this.st.blocked.filter((b) => b.sha256 !== e.sha256);
    this.st.blocked.push({ id: e.id, sha256: e.sha256, reason, t: Date.now() });
    if (this.st.blocked.length > MAX_BLOCKED) this.st.blocked.splice(0, this.st.blocked.length - MAX_BLOCKED);
  }

  private blockActive(reason: string): void {
    if (this.st.active) this.addBlock(this.st.active, reason);
  }

  /** Where a rollback goes: the last-known-good when it differs from the active model. */
  rollbackTarget(): StoreEntry | null {
    const lkg = this.st.lastKnownGood;
    return lkg && lkg.sha256 !== this.st.active?.sha256 ? lkg : null;
  }

  /**
   * Leave the active model for the last-known-good, and block the active one so its retained
   * announcement is not taken again. Returns the new active entry, or null when there is no
   * last-known-good (then nothing changes).
   */
  async rollback(reason: string): Promise<StoreEntry | null> {
    const to = this.rollbackState(reason);
    if (to) await this.save();
    return to;
  }

  rollbackSync(reason: string): StoreEntry | null {
    const to = this.rollbackState(reason);
    if (to) this.saveSync();
    return to;
  }

  /** The in-memory half of a rollback (the callers persist it); null when there is no target. */
  private rollbackState(reason: string): StoreEntry | null {
    const to = this.rollbackTarget();
    if (!to) return null;
    this.blockActive(reason);
    this.st.active = to;
    this.st.confirmed = true;
    this.st.boots = 0;
    return to;
  }

  /**
   * Called once per daemon start, before loading: counts boots of an unconfirmed active model
   * and rolls back after `maxBoots` of them (the daemon keeps dying with it: a crash loop).
   * Returns the model to load (active, else last-known-good), checking its file is there.
   */
  bootSync(maxBoots: number): BootChoice {
    const st = this.st;
    let rolledBack: BootChoice['rolledBack'];
    if (st.active && !st.confirmed) {
      st.boots++;
      if (st.boots > maxBoots && this.rollbackTarget()) {
        const from = st.active.id;
        const to = this.rollbackSync('crash_loop');
        rolledBack = { from, reason: 'crash_loop', to: to?.id ?? null };
        log.error({ from, to: to?.id, boots: st.boots }, `the daemon restarted ${maxBoots} times with ${from} without confirming it; rolled back to the last-known-good`);
      } else this.saveSync();
    }
    for (const cand of [st.active, st.lastKnownGood]) {
      if (!cand) continue;
      if (this.fileOk(cand)) {
        if (cand !== st.active) {
          rolledBack = { from: st.active!.id, reason: 'unreadable', to: cand.id };
          this.rollbackSync('unreadable');
        }
        return rolledBack ? { entry: cand, rolledBack } : { entry: cand };
      }
    }
    return rolledBack ? { entry: null, rolledBack } : { entry: null };
  }

  private fileOk(e: StoreEntry): boolean {
    try {
      return statSync(this.pathOf(e)).size === e.size;
    } catch {
      return false;
    }
  }

  /** Delete stored versions beyond the newest `keep`, never the active or last-known-good. */
  async prune(keep: number): Promise<string[]> {
    const pinned = new Set<string>();
    for (const e of [this.st.active, this.st.lastKnownGood]) if (e) pinned.add(e.file);
    const others = this.st.entries.filter((e) => !pinned.has(e.file)).sort((a, b) => b.stored - a.stored);
    const room = Math.max(0, keep - pinned.size);
    const drop = others.slice(room);
    if (drop.length === 0) return [];
    const gone = new Set(drop.map((e) => e.file));
    this.st.entries = this.st.entries.filter((e) => !gone.has(e.file));
    await this.save(); // forget first: a crash then leaves an orphan file, never a dangling entry
    for (const e of drop) {
      try { unlinkSync(this.pathOf(e)); } catch { /* already gone */ }
    }
    return drop.map((e) => e.id);
  }
}
