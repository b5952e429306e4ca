/**
 * End to end through the real CLI process: keys generate -> bundle create -> verify ->
 * inspect, and the refusals an operator sees (code on stderr, non-zero exit).
 */
import t from 'tap';
import { mkdirSync, readFileSync, statSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { tinyMlp, tinyPart } from '../helpers/models.js';

t.test('keys generate -> bundle create -> verify -> inspect', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(join(dir, 'm.onnx'), tinyMlp());
  const part = tinyPart();
  writeFileSync(join(dir, 'part.json'), JSON.stringify(part, null, 2));
  writeFileSync(join(dir, 'calib.json'), '{"n":1}');

  const gen = await runCli(['keys', 'generate', '--out', join(dir, 'keys'), '--name', 'ops']);
  t.equal(gen.code, 0, gen.stderr);
  const keyId = /key id\s+([0-9a-f]{16})/.exec(gen.stdout)?.[1];
  t.ok(keyId, 'prints the key id');
  t.equal(statSync(join(dir, 'keys', 'ops.key')).mode & 0o777, 0o600, 'private key is 0600');
  t.same(readdirSync(join(dir, 'keys')).sort(), ['ops.key', 'ops.pub'], 'no temp files left');
  mkdirSync(join(dir, 'trusted'));
  copyFileSync(join(dir, 'keys', 'ops.pub'), join(dir, 'trusted', 'ops.pub'));

  const again = await runCli(['keys', 'generate', '--out', join(dir, 'keys'), '--name', 'ops']);
  t.equal(again.code, 2);
  t.match(again.stderr, /^edgereward: E_KEY_EXISTS: /);

  const out = join(dir, 'nav.erwb');
  const create = await runCli(['bundle', 'create', '--model', join(dir, 'm.onnx'), '--manifest', join(dir, 'part.json'),
    '--key', join(dir, 'keys', 'ops.key'), '--out', out, '--extra', `calibration.json=${join(dir, 'calib.json')}`]);
  t.equal(create.code, 0, create.stderr);
  t.match(create.stdout, `nav@1.4.0, 2 file(s)`);
  t.match(create.stdout, `signed by key ${keyId}`);

  const verify = await runCli(['bundle', 'verify', out, '--trust', join(dir, 'trusted')]);
  t.equal(verify.code, 0, verify.stderr);
  t.match(verify.stdout, /^OK nav@1\.4\.0$/m);
  t.match(verify.stdout, new RegExp(`^key\\s+${keyId} \\(trusted: .*ops\\.pub\\)$`, 'm'));
  t.match(verify.stdout, /^\s+calibration\.json\s+extra\s+7 B\s+sha256 [0-9a-f]{16}…$/m);

  const inspect = await runCli(['inspect', out, '--json']);
  t.equal(inspect.code, 0, inspect.stderr);
  const report = JSON.parse(inspect.stdout) as { kind: string; bundle: { id: string; keyId: string }; model: { parameters: number; inputs: unknown } };
  t.equal(report.kind, 'bundle');
  t.equal(report.bundle.id, 'nav@1.4.0');
  t.equal(report.bundle.keyId, keyId);
  t.equal(report.model.parameters, 49);
  t.same(report.model.inputs, [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);

  const plain = await runCli(['inspect', join(dir, 'm.onnx')]);
  t.equal(plain.code, 0, plain.stderr);
  t.match(plain.stdout, /^inputs\s+x\s+float32\s+\[batch, 4\]$/m);
  t.match(plain.stdout, /^ops \(3\)\s+Gemm\s+2\s+#+$/m);

  t.test('refusals: code on stderr, exit code 2', async (t) => {
    const bytes = readFileSync(out);
    writeFileSync(join(dir, 'cut.erwb'), bytes.subarray(0, bytes.length - 100));
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    writeFileSync(join(dir, 'tampered.erwb'), tampered);
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...part, version: 'latest' }));
    writeFileSync(join(dir, 'wide.json'), JSON.stringify({ ...part, features: [{ ...part.features[0], columns: part.features[0]!.columns.slice(1) }] }));
    const cases: Array<[string, string[], RegExp]> = [
      ['untrusted', ['bundle', 'verify', out, '--trust', join(dir, 'empty')], new RegExp(`E_BUNDLE_UNTRUSTED: nav@1\\.4\\.0 is signed by key ${keyId}, which is not in the trust store`)],
      ['truncated', ['bundle', 'verify', join(dir, 'cut.erwb'), '--trust', join(dir, 'trusted')], /E_BUNDLE_TRUNCATED: nav@1\.4\.0 is 100 bytes shorter than its manifest says/],
      ['sha256', ['bundle', 'verify', join(dir, 'tampered.erwb'), '--trust', join(dir, 'trusted')], /E_BUNDLE_SHA256: nav@1\.4\.0: file "calibration\.json"/],
      ['schema', ['bundle', 'create', '--model', join(dir, 'm.onnx'), '--manifest', join(dir, 'bad.json'), '--key', join(dir, 'keys', 'ops.key'), '--out', join(dir, 'x.erwb')], /E_BUNDLE_MANIFEST: .*\/version must match pattern/],
      ['width', ['bundle', 'create', '--model', join(dir, 'm.onnx'), '--manifest', join(dir, 'wide.json'), '--key', join(dir, 'keys', 'ops.key'), '--out', join(dir, 'x.erwb')], /E_BUNDLE_MANIFEST: nav@1\.4\.0: the feature map gives input "x" 3 columns, but the model's input has 4/],
      ['not onnx', ['bundle', 'create', '--model', join(dir, 'part.json'), '--manifest', join(dir, 'part.json'), '--key', join(dir, 'keys', 'ops.key'), '--out', join(dir, 'x.erwb')], /E_ONNX_PARSE: /],
    ];
    for (const [name, args, re] of cases) {
      const r = await runCli(args);
      t.equal(r.code, 2, `${name}: exit code`);
      t.match(r.stderr, re, `${name}: message`);
      t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
    }
    const json = await runCli(['bundle', 'verify', join(dir, 'cut.erwb'), '--trust', join(dir, 'trusted'), '--json']);
    t.equal(json.code, 2);
    t.match(JSON.parse(json.stdout), { ok: false, code: 'E_BUNDLE_TRUNCATED' });
    t.notOk(readdirSync(dir).includes('x.erwb'), 'a refused create writes nothing');
  });
});
