/**
 * TensorFlow.js with its WebAssembly backend, loaded on demand. Only training commands call
 * `loadTf()`: the daemon never imports this folder (DESIGN.md, memory budget), and nothing here is
 * imported at module top level.
 *
 * Why WASM: tfjs-node (native) cannot install here; the WASM backend with SIMD measured about
 * 8.5 GFLOP/s on a 4096×512×512 matMul on this machine against 0.65 for the pure-JS `cpu` backend
 * (issue 3). Threads are not available to WASM in Node, so it uses one core, which leaves the
 * other to whoever shares the machine.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { EdgeError } from '../errors.js';

export type Tf = typeof import('@tensorflow/tfjs');

let loading: Promise<Tf> | undefined;

/** Where the backend's .wasm binaries live (node_modules), as a directory path ending in '/'. */
export function wasmDir(): string {
  const req = createRequire(import.meta.url);
  return path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep;
}

async function load(backend: 'wasm' | 'cpu'): Promise<Tf> {
  // The CJS builds: their node entry points find the .wasm next to themselves, and `require` avoids
  // relying on Node's ESM named-export detection for a large CJS module.
  const req = createRequire(import.meta.url);
  const tf = req('@tensorflow/tfjs') as Tf;
  const wasm = req('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmDir());
  let ok = false;
  try {
    ok = await tf.setBackend(backend);
  } catch (cause) {
    throw new EdgeError('E_TRAIN_BACKEND', `TensorFlow.js could not start its ${backend} backend; check that @tensorflow/tfjs-backend-wasm is installed with its .wasm files`, { cause });
  }
  if (!ok) throw new EdgeError('E_TRAIN_BACKEND', `TensorFlow.js refused the ${backend} backend; check that @tensorflow/tfjs-backend-wasm is installed with its .wasm files`);
  await tf.ready();
  if (backend === 'wasm') pretransposeMatMul(tf);
  return tf;
}

type KernelFunc = import('@tensorflow/tfjs').KernelFunc;
type TensorInfo = import('@tensorflow/tfjs').TensorInfo;
const patched = new WeakSet<object>();

/**
 * The WASM backend's matMul is fast only without its transpose flags: measured here on
 * 2080×512·512×512, 8.7 GFLOP/s plain, 1.2 with transposeB and 0.5 with transposeA, but 5-8 with
 * an explicit Transpose kernel first. Backpropagation through a dense layer is exactly the two
 * transposed products (dx = dy·Wᵀ, dW = xᵀ·dy), so training would spend ~90% of its time there.
 * This wraps the `BatchMatMul` and `_FusedMatMul` kernels to transpose explicitly and call the
 * original without the flags: same results, the library's own gradients and kernels.
 */
function pretransposeMatMul(tf: Tf): void {
  const transposeK = tf.getKernel('Transpose', 'wasm');
  if (!transposeK) return;
  const transpose = transposeK.kernelFunc;
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const k = tf.getKernel(name, 'wasm');
    if (!k || patched.has(k)) continue;
    const orig = k.kernelFunc;
    const kernelFunc: KernelFunc = (args) => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean } | undefined;
      if (!attrs?.transposeA && !attrs?.transposeB) return orig(args);
      const temps: TensorInfo[] = [];
      const swap = (t: TensorInfo): TensorInfo => {
        const r = t.shape.length;
        const perm = Array.from({ length: r }, (_, i) => i);
        perm[r - 2] = r - 1;
        perm[r - 1] = r - 2;
        const out = transpose({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as TensorInfo;
        temps.push(out);
        return out;
      };
      const a = args.inputs['a']!;
      const b = args.inputs['b']!;
      const inputs = { ...args.inputs, a: attrs.transposeA ? swap(a) : a, b: attrs.transposeB ? swap(b) : b };
      const out = orig({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      for (const t of temps) (args.backend as { disposeData(id: object): boolean }).disposeData(t.dataId);
      return out;
    };
    tf.unregisterKernel(name, 'wasm');
    const cfg = { ...k, kernelFunc };
    tf.registerKernel(cfg);
    patched.add(tf.getKernel(name, 'wasm') ?? cfg);
  }
}

/**
 * TensorFlow.js, ready on the WASM backend (or `cpu` when asked, e.g. to compare). The first call
 * loads and initialises it; later calls return the same module.
 */
export function loadTf(backend: 'wasm' | 'cpu' = 'wasm'): Promise<Tf> {
  if (!loading) loading = load(backend);
  return loading.then(async (tf) => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    return tf;
  });
}
