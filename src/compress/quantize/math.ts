/**
 * Linear quantization as plain functions on typed arrays.
 *
 *   q = clamp(round(x / scale) + zeroPoint, qmin, qmax),   x' = (q - zeroPoint) · scale
 *
 * - symmetric: zeroPoint = 0, range ±(2^(bits-1) − 1) (the "restricted" range, so that
 *   −x is representable whenever x is; onnxruntime's int8 weights use the same),
 * - asymmetric: the range [min(x,0), max(x,0)] is mapped onto [0, 2^bits − 1] (unsigned) with
 *   an integer zero point, so 0.0 is always exactly representable,
 * - pow2: the scale is a power of two, 2^-f — the seed's fixed-point form W' = round(W·2^f)/2^f.
 *   `fracBits` fixes f; otherwise f is the largest value with max|W|·2^f ≤ qmax.
 *
 * Every value inside the calibrated range is reconstructed within half a step (scale/2).
 */
export interface QuantOptions {
  /** 2..8. Default 8. */
  bits?: number;
  /** Zero point fixed at 0 and signed storage. Default true. */
  symmetric?: boolean;
  /** Quantize each slice along this axis with its own scale (needs `dims`). Default: per tensor. */
  axis?: number;
  dims?: number[];
  /** Power-of-two scales (fixed point). Default false. */
  pow2?: boolean;
  /** With pow2: the number of fractional bits f, used as is (values outside the range clip). */
  fracBits?: number;
}

export interface Quantized {
  /** Signed (symmetric) or unsigned (asymmetric) codes, same layout as the input. */
  q: Int8Array | Uint8Array;
  /** One per tensor, or one per slice along `axis`. */
  scale: Float32Array;
  zeroPoint: Int8Array | Uint8Array;
  bits: number;
  symmetric: boolean;
  axis: number | undefined;
  qmin: number;
  qmax: number;
}

export function qRange(bits: number, symmetric: boolean): { qmin: number; qmax: number } {
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new RangeError(`"bits" must be an integer in 2..8 (got ${bits})`);
  return symmetric ? { qmin: -(2 ** (bits - 1) - 1), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/** Scale and zero point for a range; the range is widened to contain 0. */
export function chooseParams(
  lo: number,
  hi: number,
  bits: number,
  symmetric: boolean,
  pow2 = false,
  fracBits?: number,
): { scale: number; zeroPoint: number } {
  const { qmin, qmax } = qRange(bits, symmetric);
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  if (symmetric) {
    const m = Math.max(-lo, hi);
    let scale = m > 0 ? m / qmax : 1;
    if (pow2) scale = fracBits !== undefined ? 2 ** -fracBits : m > 0 ? 2 ** -Math.floor(Math.log2(qmax / m)) : 1;
    return { scale: Math.fround(scale), zeroPoint: 0 };
  }
  let scale = hi > lo ? (hi - lo) / (qmax - qmin) : 1;
  if (pow2) scale = fracBits !== undefined ? 2 ** -fracBits : hi > lo ? 2 ** Math.ceil(Math.log2(scale)) : 1;
  scale = Math.fround(scale);
  const zp = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale, zeroPoint: zp };
}

/** Number of slices along `axis` and the stride pattern: index i belongs to slice floor(i / inner) % n. */
function sliceLayout(length: number, dims: number[] | undefined, axis: number | undefined): { n: number; inner: number } {
  if (axis === undefined) return { n: 1, inner: length };
  if (!dims) throw new RangeError('"dims" is required with "axis"');
  const a = axis < 0 ? dims.length + axis : axis;
  if (a < 0 || a >= dims.length) throw new RangeError(`"axis" ${axis} is outside a tensor of rank ${dims.length}`);
  if (dims.reduce((x, y) => x * y, 1) !== length) throw new RangeError(`"dims" [${dims.join(',')}] do not match ${length} values`);
  const inner = dims.slice(a + 1).reduce((x, y) => x * y, 1);
  return { n: dims[a]!, inner };
}

export function quantizeTensor(values: Float32Array, opts: QuantOptions = {}): Quantized {
  const bits = opts.bits ?? 8;
  const symmetric = opts.symmetric ?? true;
  const { qmin, qmax } = qRange(bits, symmetric);
  const { n, inner } = sliceLayout(values.length, opts.dims, opts.axis);
  const lo = new Float64Array(n).fill(Infinity);
  const hi = new Float64Array(n).fill(-Infinity);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % n;
    const v = values[i]!;
    if (v < lo[c]!) lo[c] = v;
    if (v > hi[c]!) hi[c] = v;
  }
  const scale = new Float32Array(n);
  const zeroPoint = symmetric ? new Int8Array(n) : new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    const p = chooseParams(lo[c] === Infinity ? 0 : lo[c]!, hi[c] === -Infinity ? 0 : hi[c]!, bits, symmetric, opts.pow2, opts.fracBits);
    scale[c] = p.scale;
    zeroPoint[c] = p.zeroPoint;
  }
  const q = symmetric ? new Int8Array(values.length) : new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % n;
    const v = Math.round(values[i]! / scale[c]!) + zeroPoint[c]!;
    q[i] = v < qmin ? qmin : v > qmax ? qmax : v;
  }
  return { q, scale, zeroPoint, bits, symmetric, axis: opts.axis, qmin, qmax };
}

export function dequantizeTensor(qt: Quantized, dims?: number[]): Float32Array {
  const { n, inner } = sliceLayout(qt.q.length, qt.axis === undefined ? undefined : dims, qt.axis);
  if (n !== qt.scale.length) throw new RangeError(`${qt.scale.length} scales for ${n} slices`);
  const out = new Float32Array(qt.q.length);
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % n;
    out[i] = (qt.q[i]! - qt.zeroPoint[c]!) * qt.scale[c]!;
  }
  return out;
}

/** x → dequantize(quantize(x)): what the model will see. */
export function fakeQuantize(values: Float32Array, opts: QuantOptions = {}): Float32Array {
  return dequantizeTensor(quantizeTensor(values, opts), opts.dims);
}

/** Values at `p`/100 and (100−p)/100 quantiles (percentile calibration); p=100 gives min/max. */
export function percentileRange(values: Float32Array, p: number): { lo: number; hi: number } {
  if (!(p > 50 && p <= 100)) throw new RangeError(`"percentile" must be in (50, 100] (got ${p})`);
  if (values.length === 0) return { lo: 0, hi: 0 };
  const s = Float32Array.from(values).sort();
  const at = (f: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(f * (s.length - 1))))]!;
  return { lo: at(1 - p / 100), hi: at(p / 100) };
}

/**
 * Block-wise 4-bit (or 2..8-bit) quantization of a [K, N] weight for onnxruntime's MatMulNBits:
 * blocks of `blockSize` along K for each output column n, codes in 0..2^bits−1 with a per-block
 * scale and zero point, packed low bits first into bytes, shaped [N, kBlocks, blockSize·bits/8].
 */
export function quantizeBlocks(
  w: Float32Array,
  K: number,
  N: number,
  opts: { bits?: number; blockSize?: number; symmetric?: boolean } = {},
): { packed: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array; kBlocks: number; blobSize: number; dequantized: Float32Array } {
  const bits = opts.bits ?? 4;
  const bs = opts.blockSize ?? 32;
  if (bits !== 4 && bits !== 8 && bits !== 2) throw new RangeError(`block quantization supports 2, 4 or 8 bits (got ${bits})`);
  if (bs < 16 || (bs & (bs - 1)) !== 0) throw new RangeError(`"blockSize" must be a power of two ≥ 16 (got ${bs})`);
  if (w.length !== K * N) throw new RangeError(`weight has ${w.length} values, expected ${K}×${N}`);
  const kBlocks = Math.ceil(K / bs);
  const blobSize = (bs * bits) / 8;
  const perByte = 8 / bits;
  const qmax = 2 ** bits - 1;
  const packed = new Uint8Array(N * kBlocks * blobSize);
  const scales = new Float32Array(N * kBlocks);
  const zpBytesPerCol = Math.ceil((kBlocks * bits) / 8);
  const zeroPoints = new Uint8Array(N * zpBytesPerCol);
  const dequantized = new Float32Array(K * N);
  const mid = 2 ** (bits - 1);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < kBlocks; b++) {
      let lo = 0;
      let hi = 0;
      for (let k = b * bs; k < Math.min(K, (b + 1) * bs); k++) {
        const v = w[k * N + n]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      let scale: number;
      let zp: number;
      if (opts.symmetric) {
        const m = Math.max(-lo, hi);
        scale = Math.fround(m > 0 ? m / (mid - 1) : 1);
        zp = mid;
      } else {
        scale = Math.fround(hi > lo ? (hi - lo) / qmax : 1);
        zp = Math.min(qmax, Math.max(0, Math.round(-lo / scale)));
      }
      scales[n * kBlocks + b] = scale;
      const zi = n * zpBytesPerCol + Math.floor((b * bits) / 8);
      zeroPoints[zi] = zeroPoints[zi]! | (zp << ((b % perByte) * bits));
      for (let j = 0; j < bs; j++) {
        const k = b * bs + j;
        let q = zp; // padding beyond K dequantizes to exactly 0
        if (k < K) {
          q = Math.min(qmax, Math.max(0, Math.round(w[k * N + n]! / scale) + zp));
          dequantized[k * N + n] = (q - zp) * scale;
        }
        const byte = (n * kBlocks + b) * blobSize + Math.floor(j / perByte);
        packed[byte] = packed[byte]! | (q << ((j % perByte) * bits));
      }
    }
  }
  return { packed, scales, zeroPoints, kBlocks, blobSize, dequantized };
}
