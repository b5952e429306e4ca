/**
 * The pipeline's work directory: one checkpoint file per completed stage (`NN-<stage>.json`,
 * written atomically after the stage's artifacts), so an interrupted run restarts where it
 * stopped. Each stage's fingerprint covers the inputs and the settings of that stage and the ones
 * before it: a stage whose fingerprint changed is redone, and so is every stage after it.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeError } from '../../errors.js';
import { writeFileAtomicSync } from '../../runtime/store/atomic.js';

export interface Checkpoint<T> {
  stage: string;
  fingerprint: string;
  finished: string;
  seconds: number;
  result: T;
}

export class WorkDir {
  /** Set when a stage's checkpoint was stale: every later checkpoint is ignored too. */
  private stale = false;

  constructor(readonly dir: string, readonly fingerprint: (index: number) => string) {
    mkdirSync(dir, { recursive: true });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  private file(index: number, stage: string): string {
    return this.path(`${String(index).padStart(2, '0')}-${stage}.json`);
  }

  /** The checkpoint of a completed stage, or undefined (none, or made with other inputs or settings). */
  load<T>(index: number, stage: string, onStale?: (why: string) => void): Checkpoint<T> | undefined {
    const f = this.file(index, stage);
    if (this.stale || !existsSync(f)) {
      this.stale = true;
      return undefined;
    }
    let c: Checkpoint<T>;
    try {
      c = JSON.parse(readFileSync(f, 'utf8')) as Checkpoint<T>;
    } catch (e) {
      throw new EdgeError('E_PIPELINE_WORKDIR', `checkpoint ${f} is unreadable; delete it to redo the stage`, { cause: e });
    }
    if (c.fingerprint !== this.fingerprint(index)) {
      this.stale = true;
      onStale?.(`${f} was made with other inputs or settings: redoing ${stage} and the stages after it`);
      return undefined;
    }
    return c;
  }

  save<T>(index: number, stage: string, seconds: number, result: T): Checkpoint<T> {
    const c: Checkpoint<T> = { stage, fingerprint: this.fingerprint(index), finished: new Date().toISOString(), seconds, result };
    writeFileAtomicSync(this.file(index, stage), JSON.stringify(c, null, 1) + '\n');
    return c;
  }

  writeBytes(name: string, bytes: Uint8Array): void {
    writeFileAtomicSync(this.path(name), bytes);
  }

  readBytes(name: string): Uint8Array {
    try {
      return readFileSync(this.path(name));
    } catch (e) {
      throw new EdgeError('E_PIPELINE_WORKDIR', `artifact ${this.path(name)} is missing although its stage completed; delete the stage's checkpoint to redo it`, { cause: e });
    }
  }

  writeFloats(name: string, a: Float32Array): void {
    this.writeBytes(name, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  readFloats(name: string): Float32Array {
    const b = this.readBytes(name);
    const out = new Float32Array(b.byteLength / 4);
    new Uint8Array(out.buffer).set(b);
    return out;
  }
}
