import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkConfig, loadConfig, defaultConfigFile } from '../../src/config/load.js';
import { tmpDir } from '../helpers/tmp.js';

t.test('precedence: defaults < file < environment < flags', async (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ loop: { rateHz: 20, deadlineMs: 15, maxAgeMs: 250 }, device: { id: 'from-file' }, model: { bundle: 'm.bundle' } }));
  const c = loadConfig({ file, env: { EDGEREWARD_LOOP_DEADLINE_MS: '12', EDGEREWARD_LOOP_MAX_AGE_MS: '260', EDGEREWARD_MODEL_TRUST: 'a,b' }, flags: { 'loop.maxAgeMs': '270' } });
  t.equal(c.loop.policy, 'argmax', 'default');
  t.equal(c.loop.rateHz, 20, 'file over default');
  t.equal(c.device.id, 'from-file');
  t.equal(c.loop.deadlineMs, 12, 'environment over file');
  t.equal(c.loop.maxAgeMs, 270, 'flag over environment');
  t.same(c.model.trust, ['a', 'b'], 'lists from the environment split on commas');
  t.equal(c.model.bundle, join(dir, 'm.bundle'), 'paths in a file are relative to the file');
});

t.test('an action object replaces the default, it is not merged into it', async (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ loop: { fallback: { speed: 0 } }, model: { bundle: 'x' } }));
  t.same(loadConfig({ file, env: {} }).loop.fallback, { speed: 0 });
});

t.test('every problem is explained, with where it came from', async (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ loop: { rateHz: -1, polcy: 'argmax' }, mqtt: { protocolVersion: 3 }, streams: [{ name: 'lidar', qos: 7 }], model: { bundle: 'x' } }));
  const { problems } = checkConfig({ file, env: { EDGEREWARD_TELEMETRY_PORT: 'eighty' }, flags: { 'telemetry.live': 'sometimes' } });
  const text = problems.map((p) => `${p.message} <${p.source}>`).join('\n');
  t.match(text, /loop\.rateHz must be a number from 0\.1 to 1000 \(got -1\) <file>/);
  t.match(text, /"loop\.polcy" is not a setting \(did you mean "loop\.policy"\?\) <file>/);
  t.match(text, /mqtt\.protocolVersion must be one of 4, 5 \(got 3\) <file>/);
  t.match(text, /streams item 0: "qos" must be 0, 1 or 2/);
  t.match(text, /telemetry\.port must be a whole number .*not a number.* <env>/);
  t.match(text, /telemetry\.live must be one of "auto", "on", "off" \(got "sometimes"\) <flag>/);
  t.equal(problems.length, 6);
  t.throws(() => loadConfig({ file, env: {} }), { code: 'E_CONFIG_INVALID' });
});

t.test('bad JSON names the line and column', async (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'broken.json');
  writeFileSync(file, '{\n  "loop": { "rateHz": 10, }\n}\n');
  t.throws(() => checkConfig({ file, env: {} }), { code: 'E_CONFIG_JSON', message: /line 2, column/ });
});

t.test('the shipped configs are valid', async (t) => {
  t.same(checkConfig({ file: defaultConfigFile(), env: {} }).problems, []);
  t.same(checkConfig({ file: defaultConfigFile().replace('default.json', 'device.example.json'), env: {} }).problems, []);
});

t.test('`edgereward config check` exits 2 and lists the problems', async (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ loop: { deadlineMs: 0 } }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', '--config', file], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /1 problem\(s\):\n  - loop\.deadlineMs must be a number from 1 to 10000 \(got 0\)|loop\.deadlineMs must be a number from 1 to 10000/);
  const ok = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check'], { encoding: 'utf8' });
  t.equal(ok.status, 0);
  t.match(ok.stdout, /default\.json: ok/);
});
