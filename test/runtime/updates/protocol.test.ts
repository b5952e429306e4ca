/** Pure parts of the update protocol: rollout selection, bitmaps, chunk assembly, parsing. */
import t from 'tap';
import { ChunkAssembler } from '../../../src/runtime/updates/download.js';
import { isSelected, missingFrom, newBitmap, parseFleetMessage, rolloutBucket, setBit, parseChunkRequest } from '../../../src/runtime/updates/protocol.js';
import { makeAnnouncement, parseRollout, parseSize } from '../../../src/fleet/announce.js';
import { createBundle } from '../../../src/runtime/bundle/create.js';
import { generateKeyPair } from '../../../src/runtime/bundle/keys.js';
import { tinyMlp, tinyPart } from '../../helpers/models.js';

t.test('rollout selector', async (t) => {
  t.ok(isSelected(undefined, 'a', [], 'nav'), 'no selector: everyone');
  t.ok(isSelected({ devices: ['a'] }, 'a', [], 'nav'));
  t.notOk(isSelected({ devices: ['a'] }, 'b', [], 'nav'));
  t.ok(isSelected({ tags: ['lab'] }, 'b', ['x', 'lab'], 'nav'));
  t.notOk(isSelected({ percent: 0 }, 'b', [], 'nav'));
  t.ok(isSelected({ percent: 100 }, 'b', [], 'nav'));
  const ids = Array.from({ length: 2000 }, (_, i) => `robot-${i}`);
  const p10 = ids.filter((d) => isSelected({ percent: 10 }, d, [], 'nav'));
  const p50 = ids.filter((d) => isSelected({ percent: 50 }, d, [], 'nav'));
  t.ok(p10.length > 140 && p10.length < 260, `about 10 % selected (${p10.length}/2000)`);
  t.ok(p10.every((d) => p50.includes(d)), 'raising the percentage keeps the devices already selected');
  t.equal(rolloutBucket('robot-1', 'nav'), rolloutBucket('robot-1', 'nav'), 'stable');
});

t.test('bitmap and assembler: duplicates, any order, bad sizes and indices', async (t) => {
  const b = newBitmap(10);
  setBit(b, 0);
  setBit(b, 9);
  t.same(missingFrom(b, 10), [1, 2, 3, 4, 5, 6, 7, 8]);
  const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
  const a = new ChunkAssembler(data.length, 1024);
  t.equal(a.chunks, 3);
  t.equal(a.add(2, data.subarray(2048)), 'new');
  t.equal(a.add(2, data.subarray(2048)), 'duplicate');
  t.equal(a.add(0, data.subarray(0, 1000)), 'bad_size', 'a truncated chunk is refused');
  t.equal(a.add(7, data.subarray(0, 1024)), 'bad_index');
  t.equal(a.add(0, data.subarray(0, 1024)), 'new');
  t.same(a.missing(), [1]);
  t.equal(a.add(1, data.subarray(1024, 2048)), 'new');
  t.ok(a.complete);
  t.same(a.bytes, data);
});

t.test('announcement and request parsing', async (t) => {
  const kp = generateKeyPair();
  const bytes = createBundle({ model: tinyMlp(), manifest: tinyPart(), privateKeyPem: kp.privateKeyPem });
  const ann = makeAnnouncement(bytes, { chunkSize: 1024, rollout: parseRollout({ rollout: '10%', tags: 'a,b' })! });
  t.same(ann.rollout, { percent: 10, tags: ['a', 'b'] });
  const back = parseFleetMessage(Buffer.from(JSON.stringify(ann)), 'nav');
  t.equal(back.kind, 'release');
  t.throws(() => parseFleetMessage(Buffer.from(JSON.stringify(ann)), 'other'), { code: 'E_UPDATE_ANNOUNCEMENT' }, 'wrong topic');
  t.throws(() => parseFleetMessage(Buffer.from(JSON.stringify({ ...ann, chunks: 1 }))), { code: 'E_UPDATE_ANNOUNCEMENT' }, 'chunk count must fit');
  t.throws(() => parseFleetMessage(Buffer.from('{nope')), { code: 'E_UPDATE_ANNOUNCEMENT' });
  t.throws(() => parseChunkRequest(Buffer.from('{"device":"a"}')), { code: 'E_FLEET_REQUEST' });
  t.equal(parseSize('64KiB'), 65536);
  t.equal(parseSize('128kB'), 128000);
  t.throws(() => parseRollout({ rollout: '150%' }), { code: 'E_CLI_ARG' });
});
