import t from 'tap';
import { dequantizeTensor, fakeQuantize, percentileRange, quantizeBlocks, quantizeTensor } from '../../src/compress/quantize/math.js';
import { groupedSpearman, ranks, spearman, top1Agreement, fidelity, regret } from '../../src/compress/evaluate/metrics.js';
import { pruneByThreshold, pruneToSparsity } from '../../src/compress/prune/magnitude.js';
import { storeWeight } from '../../src/compress/quantize/common.js';
import { weights } from '../helpers/models.js';

const w = weights(4 * 37, 7).map((v, i) => (i % 11 === 0 ? 0 : v * (1 + (i % 4))));

t.test('quantize/dequantize: error within half a step, zero exact', async (t) => {
  for (const symmetric of [true, false]) {
    for (const bits of [8, 7, 4, 2]) {
      for (const perChannel of [false, true]) {
        const opts = { bits, symmetric, ...(perChannel ? { axis: 0, dims: [4, 37] } : {}) };
        const q = quantizeTensor(w, opts);
        const back = dequantizeTensor(q, [4, 37]);
        let worst = 0;
        for (let i = 0; i < w.length; i++) {
          const s = q.scale[perChannel ? Math.floor(i / 37) : 0]!;
          worst = Math.max(worst, Math.abs(back[i]! - w[i]!) / s);
          if (w[i] === 0) t.equal(back[i], 0, 'zero maps to zero exactly');
        }
        t.ok(worst <= 0.5 + 1e-4, `${symmetric ? 'sym' : 'asym'} ${bits}-bit ${perChannel ? 'per-channel' : 'per-tensor'}: worst error ${worst.toFixed(4)} steps`);
        t.equal(q.scale.length, perChannel ? 4 : 1, 'one scale per output channel');
        for (let i = 0; i < q.q.length; i++) if (q.q[i]! < q.qmin || q.q[i]! > q.qmax) t.fail('code out of range');
      }
    }
  }
});

t.test('per-channel scales follow each channel', async (t) => {
  const x = new Float32Array([1, -1, 0.5, 100, -50, 25]); // channel 0 small, channel 1 large
  const q = quantizeTensor(x, { bits: 8, symmetric: true, axis: 0, dims: [2, 3] });
  t.equal(q.scale[0], Math.fround(1 / 127));
  t.equal(q.scale[1], Math.fround(100 / 127));
  const qc = quantizeTensor(x, { bits: 8, symmetric: true, axis: 1, dims: [2, 3] });
  t.equal(qc.scale.length, 3);
  t.equal(qc.scale[0], Math.fround(100 / 127));
});

t.test('uint8 storage of symmetric weights: codes + 128, zero point 128, same values', async (t) => {
  const q = quantizeTensor(w, { bits: 8, symmetric: true, axis: 0, dims: [4, 37] });
  const st = storeWeight(q, { bits: 8, symmetric: true, unsigned: true });
  t.ok(st.unsigned && st.q instanceof Uint8Array && st.zeroPoint instanceof Uint8Array);
  t.same([...st.zeroPoint], [128, 128, 128, 128]);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / 37);
    if ((st.q[i]! - st.zeroPoint[c]!) * q.scale[c]! !== (q.q[i]! - q.zeroPoint[c]!) * q.scale[c]!) t.fail(`value ${i} changed`);
    if (st.q[i]! < 1 || st.q[i]! > 255) t.fail('code outside 1..255');
  }
  t.equal(storeWeight(q, { bits: 8, symmetric: true }).q, q.q, 'int8 storage unless asked');
});

t.test("pow2: the seed's fixed-point form W' = round(W·2^f)/2^f", async (t) => {
  const q = quantizeTensor(w, { bits: 8, symmetric: true, pow2: true });
  const f = -Math.log2(q.scale[0]!);
  t.ok(Number.isInteger(f), `scale is 2^-${f}`);
  const back = dequantizeTensor(q);
  t.same([...back], [...w].map((v) => Math.fround(Math.round(v * 2 ** f) / 2 ** f)), 'every value on the 2^-f grid');
  const fixed = fakeQuantize(new Float32Array([0.3, -0.7]), { bits: 8, pow2: true, fracBits: 3 });
  t.same([...fixed], [0.25, -0.75], 'fracBits fixes f');
});

t.test('block 4-bit packing matches its dequantized values', async (t) => {
  const K = 70;
  const N = 3;
  const wk = weights(K * N, 3);
  const b = quantizeBlocks(wk, K, N, { bits: 4, blockSize: 32 });
  t.equal(b.kBlocks, 3);
  t.equal(b.blobSize, 16);
  t.equal(b.packed.length, N * 3 * 16);
  // Unpack by hand (low nibble first) and compare with `dequantized`.
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const blk = Math.floor(k / 32);
      const j = k % 32;
      const byte = b.packed[(n * 3 + blk) * 16 + (j >> 1)]!;
      const q = j % 2 ? byte >> 4 : byte & 15;
      const zb = b.zeroPoints[n * 2 + (blk >> 1)]!;
      const zp = blk % 2 ? zb >> 4 : zb & 15;
      const v = (q - zp) * b.scales[n * 3 + blk]!;
      if (Math.abs(v - b.dequantized[k * N + n]!) > 1e-7) t.fail(`mismatch at k=${k} n=${n}`);
      if (Math.abs(v - wk[k * N + n]!) > b.scales[n * 3 + blk]! / 2 + 1e-6) t.fail('error above half a step');
    }
  }
  t.pass('unpacked values agree');
});

t.test('percentile range clips tails', async (t) => {
  const x = Float32Array.from({ length: 1001 }, (_, i) => i - 500);
  x[0] = -1e6;
  const r = percentileRange(x, 99);
  t.ok(r.lo > -500 && r.lo < -480);
  t.ok(r.hi > 480 && r.hi < 500);
  t.throws(() => percentileRange(x, 20), RangeError);
});

t.test('metrics: spearman with ties, top-1, regret', async (t) => {
  t.same([...ranks([10, 20, 20, 5])], [2, 3.5, 3.5, 1]);
  t.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  t.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  t.equal(spearman([1, 1, 1], [1, 1, 1]), 1, 'both constant: agree');
  t.ok(Number.isNaN(spearman([1, 2, 3], [1, 1, 1])), 'one constant: undefined');
  t.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12, 'ties use mid ranks');
  const ref = new Float32Array([0, 1, 2, 5, 4, 3]);
  const test = new Float32Array([0, 2, 1, 3, 4, 5]);
  t.equal(top1Agreement(ref, test, 3), 0);
  t.equal(top1Agreement(ref, ref, 3), 1);
  t.equal(groupedSpearman(ref, ref, 3), 1);
  t.equal(regret(ref, test, 3), (2 - 1 + 5 - 3) / 2);
  t.throws(() => top1Agreement(ref, test, 4), RangeError);
  const f = fidelity(ref, test, 4);
  t.equal(f.rows, 4, 'partial trailing group dropped');
});

t.test('magnitude pruning: sparsity exact, threshold', async (t) => {
  const a = weights(1000, 1);
  const b = weights(333, 2).map((v) => v * 10);
  const n = pruneToSparsity([a, b], 0.5);
  t.equal(n, Math.floor(0.5 * 1333));
  const zeros = [...a, ...b].filter((v) => v === 0).length;
  t.equal(zeros, 666, 'exactly ⌊s·n⌋ zeros');
  const c = weights(1000, 1);
  const d = weights(333, 2).map((v) => v * 10);
  pruneToSparsity([c, d], 0.3, true);
  t.equal(c.filter((v) => v === 0).length, 300);
  t.equal(d.filter((v) => v === 0).length, 99, 'per layer: each loses ⌊s·nᵢ⌋');
  const e = new Float32Array([0.1, -0.2, 0.05, -0.05, 0.3]);
  t.equal(pruneByThreshold(e, 0.15), 3);
  t.same([...e], [0, -0.2, 0, 0, 0.3].map(Math.fround));
  t.throws(() => pruneToSparsity([a], 1), RangeError);
});
