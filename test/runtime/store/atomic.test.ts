import t from 'tap';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../../src/runtime/store/atomic.js';
import { tmpDir } from '../../helpers/tmp.js';

t.test('atomic writes replace the file and leave no temp files', async (t) => {
  const dir = tmpDir(t);
  const p = join(dir, 'a.bin');
  writeFileSync(p, 'old');
  writeFileAtomicSync(p, new Uint8Array([1, 2, 3]));
  t.same([...readFileSync(p)], [1, 2, 3]);
  await writeFileAtomic(p, 'new text');
  t.equal(readFileSync(p, 'utf8'), 'new text');
  writeFileAtomicSync(join(dir, 'secret.key'), 'k', 0o600);
  t.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  await writeFileAtomic(join(dir, 'b.key'), 'k', 0o600);
  t.equal(statSync(join(dir, 'b.key')).mode & 0o777, 0o600);
  t.same(readdirSync(dir).sort(), ['a.bin', 'b.key', 'secret.key']);
});

t.test('a failed write leaves the old file and no temp file', async (t) => {
  const dir = tmpDir(t);
  const p = join(dir, 'a.bin');
  writeFileSync(p, 'old');
  // renaming a file over a non-empty directory fails after the temp file was written
  const target = join(dir, 'sub');
  writeFileSync(join(dir, 'placeholder'), '');
  t.throws(() => writeFileAtomicSync(join(dir, 'missing', 'x'), 'data'));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(target);
  writeFileSync(join(target, 'f'), '');
  t.throws(() => writeFileAtomicSync(target, 'data'));
  await t.rejects(writeFileAtomic(target, 'data'));
  t.equal(readFileSync(p, 'utf8'), 'old');
  t.same(readdirSync(dir).sort(), ['a.bin', 'placeholder', 'sub']);
});
