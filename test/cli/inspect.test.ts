import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { onnxStats, inspectBytes } from '../../src/compress/onnx/inspect.js';
import { formatInspection } from '../../src/cli/inspect.js';
import { encodeModel } from '../../src/compress/onnx/model.js';
import { floatTensor, int8Tensor, uint8Tensor } from '../../src/compress/onnx/tensor.js';
import { DataType } from '../../src/compress/onnx/proto.js';
import { createBundle, generateKeyPair, loadTrustStore } from '../../src/runtime/bundle/index.js';
import { isEdgeError } from '../../src/errors.js';
import { tinyMlp, tinyPart } from '../helpers/models.js';
import { ROOT } from '../helpers/cli.js';

/** x[b,8] -> DequantizeLinear(int8 W[8,4]) MatMul -> MatMulNBits(4-bit packed [4 -> 2]) -> y. */
function quantizedModel(): Uint8Array {
  const vi = (name: string, dims: Array<number | string>) => ({
    name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const w8 = new Int8Array(32).map((_, i) => (i % 4 === 0 ? 0 : i - 16));
  // MatMulNBits: B is [N=2, n_blocks=1, blob=block_size/2=16] uint8 = 64 4-bit weights (K padded to 32)
  const packed = new Uint8Array(32).fill(0x21);
  return encodeModel({
    irVersion: 8,
    producerName: 'test',
    opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'q',
      initializer: [
        int8Tensor('w8', [8, 4], w8),
        floatTensor('w8_scale', [], new Float32Array([0.05])),
        uint8Tensor('b4', [2, 1, 16], packed),
        floatTensor('b4_scale', [2], new Float32Array([0.1, 0.1])),
        floatTensor('bias', [4], new Float32Array([0, 0, 0.5, 0])),
      ],
      node: [
        { opType: 'DequantizeLinear', input: ['w8', 'w8_scale'], output: ['w'] },
        { opType: 'MatMul', input: ['x', 'w'], output: ['h0'] },
        { opType: 'Add', input: ['h0', 'bias'], output: ['h'] },
        { opType: 'MatMulNBits', domain: 'com.microsoft', input: ['h', 'b4', 'b4_scale'], output: ['y'],
          attribute: [{ name: 'K', type: 2, i: 4 }, { name: 'N', type: 2, i: 2 }, { name: 'bits', type: 2, i: 4 }, { name: 'block_size', type: 2, i: 32 }] },
      ],
      input: [vi('x', ['batch', 8])],
      output: [vi('y', ['batch', 2])],
    },
  });
}

t.test('stats of a float MLP', async (t) => {
  const s = onnxStats(tinyMlp());
  t.equal(s.irVersion, 8);
  t.same(s.opsets, [{ domain: 'ai.onnx', version: 17 }]);
  t.same(s.inputs, [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
  t.same(s.ops, [{ op: 'Gemm', count: 2 }, { op: 'Relu', count: 1 }]);
  t.equal(s.parameters, 4 * 8 + 8 + 8 + 1);
  t.equal(s.bytes.weights, 49 * 4);
  t.equal(s.sparsity.zeros, 1, 'the zero output bias');
  t.same(s.quantized, { int8: 0, int4: 0 });
});

t.test('stats of a quantized model: int8, MatMulNBits-packed int4, sparsity', async (t) => {
  const s = onnxStats(quantizedModel());
  t.same(s.weights, { float: 1 + 2 + 4, int8: 32, int4: 64, other: 0 });
  t.equal(s.parameters, 103);
  t.equal(s.quantized.int8, 32 / 103);
  t.equal(s.quantized.int4, 64 / 103);
  t.equal(s.sparsity.zeros, 3, 'three zero biases among 7 float values; int8 zeros are not float sparsity');
  t.equal(s.sparsity.of, 7);
  t.same(s.ops.map((o) => o.op), ['Add', 'DequantizeLinear', 'MatMul', 'com.microsoft.MatMulNBits']);
  t.equal(s.opsets[1]!.domain, 'com.microsoft');
  const text = formatInspection(inspectBytes(quantizedModel(), 'q.onnx'));
  t.match(text, /quantized\s+int8 31\.1 %, int4 62\.1 % of parameters/);
  t.match(text, /sparsity\s+42\.9 % exact zeros in float weights \(3 of 7\)/);
});

t.test('inspecting a bundle adds the manifest summary and, with a trust store, the signature', async (t) => {
  const k = generateKeyPair();
  const bytes = createBundle({ model: tinyMlp(), manifest: tinyPart(), privateKeyPem: k.privateKeyPem });
  const r = inspectBytes(bytes, 'nav.erwb');
  t.equal(r.kind, 'bundle');
  t.equal(r.bundle!.id, 'nav@1.4.0');
  t.equal(r.bundle!.keyId, k.keyId);
  t.same(r.bundle!.inputs, [{ input: 'x', per: 'candidate', width: 4 }]);
  t.same(r.bundle!.actions, { type: 'grid', names: ['v', 'w'], count: 15 });
  t.equal(r.bundle!.signature, 'unchecked');
  t.equal(r.model.parameters, 49);
  const trusted = inspectBytes(bytes, 'nav.erwb', { keys: loadTrustStore([]).keys });
  t.match(trusted.bundle!.signature, /^E_BUNDLE_UNTRUSTED/);
  const text = formatInspection(r);
  t.match(text, /^model\s+nav@1\.4\.0 — test reward model$/m);
  t.match(text, /^features\s+x\s+4 columns\s+per candidate$/m);
  t.match(text, /^actions\s+grid over v, w: 15 candidates$/m);
});

t.test('garbage is refused with a code, not a crash', async (t) => {
  for (const bytes of [Buffer.from('{"not":"onnx"}'), Buffer.alloc(0), Buffer.from([0x08, 0x07, 0xff, 0xff, 0xff])]) {
    try {
      inspectBytes(bytes, 'junk');
      t.fail('should refuse');
    } catch (e) {
      t.ok(isEdgeError(e, 'E_ONNX_PARSE'), String(e));
    }
  }
});

t.test('PyTorch-exported fixtures, when present', async (t) => {
  const f = join(ROOT, 'test', 'fixtures', 'pytorch', 'lidar_conv1d.onnx');
  if (!existsSync(f)) {
    t.comment('fixture not generated yet; skipped');
    return;
  }
  const s = onnxStats(readFileSync(f));
  t.same(s.inputs.map((i) => i.name), ['scan', 'sa']);
  t.ok(s.ops.some((o) => o.op === 'Conv'));
  t.ok(s.parameters > 1000);
});
