/**
 * `npm run models:student`: the demo's default model — the student that `edgereward compress
 * pipeline` makes from the shipped teacher (models/teacher/teacher.bundle, `npm run models`).
 *
 *   data     the teacher's training data (tmp/teacher-data.erds; regenerated with the same seed
 *            as scripts/build-models.ts when missing)
 *   target   by default a latency budget of teacher/12 at 65 candidates, measured here first
 *            (an absolute number would not survive a change of machine or load)
 *   output   models/student/student.bundle + student.report.md + SVG plots, signed with the
 *            local dev key .keys/dev.key (its public half in models/trusted/)
 *
 * Options: --teacher, --data, --out, --key, --target-latency-ms, --budget-min, --eval-episodes,
 * --work (default tmp/student.work: an interrupted run resumes there).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKeyPair, keyIdOf } from '../src/runtime/bundle/keys.js';
import { readTeacher } from '../src/compress/distill/teacher.js';
import { load, timingData } from '../src/compress/evaluate/compare.js';
import { latencySideBySide } from '../src/compress/evaluate/run.js';
import { runPipeline } from '../src/compress/pipeline/index.js';
import { log } from '../src/telemetry/log.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    teacher: { type: 'string', default: join(ROOT, 'models', 'teacher', 'teacher.bundle') },
    data: { type: 'string', default: join(ROOT, 'tmp', 'teacher-data.erds') },
    out: { type: 'string', default: join(ROOT, 'models', 'student', 'student.bundle') },
    key: { type: 'string', default: join(ROOT, '.keys', 'dev.key') },
    trust: { type: 'string', default: join(ROOT, 'models', 'trusted') },
    work: { type: 'string', default: join(ROOT, 'tmp', 'student.work') },
    'target-latency-ms': { type: 'string' },
    speedup: { type: 'string', default: '12' },
    'size-ratio': { type: 'string', default: '20' },
    'budget-min': { type: 'string', default: '10' },
    'distill-epochs': { type: 'string', default: '16' },
    'eval-episodes': { type: 'string', default: '200' },
    'data-episodes': { type: 'string', default: '400' },
    'data-seed': { type: 'string', default: '100000' },
  },
});

async function main(): Promise<void> {
  if (!process.env['EDGEREWARD_LOG_LEVEL']) log.level = 'warn';
  if (!existsSync(a.teacher!)) throw new Error(`no teacher at ${a.teacher}: run \`npm run models\` first`);
  if (!existsSync(a.data!)) {
    process.stderr.write(`no dataset at ${a.data}: generating it (${a['data-episodes']} episodes, seed ${a['data-seed']}, as scripts/build-models.ts does)\n`);
    const { writeDatasetFile } = await import('../src/train/data.js');
    mkdirSync(dirname(a.data!), { recursive: true });
    await writeDatasetFile({ out: a.data!, episodes: Number(a['data-episodes']), seed: Number(a['data-seed']) });
  }
  if (!existsSync(a.key!)) {
    const k = generateKeyPair();
    mkdirSync(dirname(a.key!), { recursive: true, mode: 0o700 });
    writeFileSync(a.key!, k.privateKeyPem, { mode: 0o600 });
    process.stderr.write(`created signing key ${a.key} (key ${k.keyId}); keep it out of git\n`);
  }
  const priv = createPrivateKey(readFileSync(a.key!, 'utf8'));
  mkdirSync(a.trust!, { recursive: true });
  const pub = join(a.trust!, `${keyIdOf(priv)}.pub`);
  if (!existsSync(pub)) writeFileSync(pub, createPublicKey(priv).export({ type: 'spki', format: 'pem' }).toString());

  let target = a['target-latency-ms'] !== undefined ? Number(a['target-latency-ms']) : NaN;
  if (!Number.isFinite(target)) {
    const t = readTeacher(a.teacher!);
    const l = await load(t.model, 'the teacher', { threads: 1 });
    const lat = await latencySideBySide(l, l, timingData(l.model, 65), [65], { runs: 300 });
    await l.session.release();
    target = Number((lat[0]!.aMs / Number(a.speedup)).toFixed(4));
    process.stderr.write(`teacher: ${lat[0]!.aMs.toFixed(4)} ms at 65 candidates here now -> target ${target} ms (1/${a.speedup})\n`);
  }
  mkdirSync(dirname(a.out!), { recursive: true });
  const res = await runPipeline({
    teacher: a.teacher!,
    data: a.data!,
    out: a.out!,
    key: a.key!,
    work: a.work!,
    targetLatencyMs: target,
    // The size target (≥ 20× smaller than the teacher file), less room for the manifest.
    maxBytes: Math.floor(statSync(a.teacher!).size / Number(a['size-ratio'])) - 4096,
    // Known-good funnel shapes in the first population (the search still explores around them).
    seeds: [
      { hidden: [64, 64], activation: 'relu', bits: 32, sparsity: 0 },
      { hidden: [96, 48], activation: 'relu', bits: 32, sparsity: 0 },
    ],
    budgetMin: Number(a['budget-min']),
    distillEpochs: Number(a['distill-epochs']),
    evalEpisodes: Number(a['eval-episodes']),
  });
  const s = res.summary;
  process.stdout.write(
    [
      `${s.student.id}: ${s.student.arch} -> ${res.out} (${s.student.bytes} bytes), report ${res.report}`,
      ...s.targets.map((t) => `  ${t.met ? 'ok ' : 'NO '} ${t.name.padEnd(58)} ${t.value}  (target ${t.target})`),
      `  load average ${s.load.start.join(' ')} -> ${s.load.end.join(' ')} on ${s.load.cpus} CPUs`,
    ].join('\n') + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`build-student: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
