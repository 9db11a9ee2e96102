/**
 * The Compose files read by Docker Compose itself (v5, built from its pinned module):
 * every profile loads, interpolates with compose/.env.example, merges its `include`d
 * layers and validates without a warning; the services and images Compose resolves are
 * the ones the files pin. The project's own rules stay in compose.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { compose, requireCompose } from '../helpers/compose';
import { composeServices } from '../helpers/stack';

const MAIN = ['-f', 'compose/compose.yaml', '--env-file', 'compose/.env.example'];
const PROFILES = ['', 'exporters', 'elastic', 'full', 'alloy', 'load'] as const;
const LAYERS = ['app.yaml', 'monitoring.yaml', 'exporters.yaml', 'elastic.yaml'];
const services = composeServices();

const profileArgs = (p: string) => (p ? ['--profile', p] : []);
const label = (p: string) => p || 'no profile';

test('the compose binary is the pinned release (its embedded Go build info names the module version)', (t) => {
  const bin = requireCompose(t);
  if (!bin) return;
  const pins = fs.readFileSync(path.join(__dirname, '..', '..', 'tools', 'versions.env'), 'utf8');
  const pinned = /^COMPOSE_VERSION=(\S+)$/m.exec(pins)?.[1];
  assert.ok(pinned, 'COMPOSE_VERSION in tools/versions.env');
  // `version` says "dev" unless the build stamps it; the module version is in the binary regardless.
  assert.ok(fs.readFileSync(bin).includes(`mod\tgithub.com/docker/compose/v5\tv${pinned}\t`), `${bin} is compose v${pinned}`);
  assert.equal(compose(bin, ['version']).status, 0);
});

test('config --quiet accepts compose.yaml with .env.example for every profile, without a warning', (t) => {
  const bin = requireCompose(t);
  if (!bin) return;
  for (const p of PROFILES) {
    const r = compose(bin, [...MAIN, ...profileArgs(p), 'config', '--quiet']);
    assert.equal(r.status, 0, `${label(p)}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), '', `${label(p)}: Compose warned`);
  }
});

test('each layer also loads on its own, all profiles on', (t) => {
  const bin = requireCompose(t);
  if (!bin) return;
  for (const layer of LAYERS) {
    const r = compose(bin, ['-f', `compose/${layer}`, '--env-file', 'compose/.env.example', '--profile', '*', 'config', '--quiet']);
    assert.equal(r.status, 0, `${layer}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), '', `${layer}: Compose warned`);
  }
});

test('config --services: the core set without a profile, plus exactly the services each profile names', (t) => {
  const bin = requireCompose(t);
  if (!bin) return;
  for (const p of PROFILES) {
    const r = compose(bin, [...MAIN, ...profileArgs(p), 'config', '--services']);
    assert.equal(r.status, 0, r.stderr);
    const expected = services.filter((s) => !s.svc.profiles?.length || s.svc.profiles.includes(p)).map((s) => s.name);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [...expected].sort(), label(p));
  }
});

test('config --images: every image as pinned in the files; the backend tagged by SERVICE_VERSION', (t) => {
  const bin = requireCompose(t);
  if (!bin) return;
  const pinned = new Map(services.filter((s) => s.name !== 'backend').map((s) => [s.name, s.svc.image as string]));
  const all = compose(bin, [...MAIN, '--profile', '*', 'config', '--images']);
  assert.equal(all.status, 0, all.stderr);
  const images = all.stdout.trim().split('\n').sort();
  assert.deepEqual(images, [...new Set([...pinned.values(), 'cloudmart/backend:dev'])].sort());
  for (const image of images) {
    const tag = image.slice(image.lastIndexOf(':') + 1);
    assert.ok(image.includes(':') && !image.includes('$'), `${image} resolved to a tag`);
    if (!image.startsWith('cloudmart/')) assert.match(tag, /^v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/, `${image}: a release version`);
  }
  const versioned = compose(bin, [...MAIN, 'config', '--images'], { SERVICE_VERSION: '1.2.3' });
  assert.ok(versioned.stdout.split('\n').includes('cloudmart/backend:1.2.3'), versioned.stdout);
});

test('Compose validates what it reads: a misspelt key, a bad memory size, a dangling depends_on are refused', (t) => {
  const bin = requireCompose(t);
  if (!bin) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-cli-'));
  try {
    const cases: Record<string, string> = {
      'unknown key': 'services:\n  a:\n    image: busybox:1.37.0\n    restrat: always\n',
      'memory size': 'services:\n  a:\n    image: busybox:1.37.0\n    mem_limit: lots\n',
      depends_on: 'services:\n  a:\n    image: busybox:1.37.0\n    depends_on:\n      b:\n        condition: service_healthy\n',
    };
    for (const [what, yaml] of Object.entries(cases)) {
      const file = path.join(dir, `${what.replace(/\W/g, '-')}.yaml`);
      fs.writeFileSync(file, yaml);
      const r = compose(bin, ['-f', file, 'config', '--quiet']);
      assert.notEqual(r.status, 0, `${what}: accepted`);
      assert.ok(r.stderr.trim().length > 0, `${what}: refused with a message`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
