import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { atLeast, MINIMUM_NODE } from '../../src/require-node';
import { createTestDatabase } from '../../testkit/postgres';
import { ROOT } from '../../testkit/server-process';
import { underCI } from '../helpers/ci';
import { pinnedVersions } from '../helpers/tools';
import { MMAP_THRESHOLD_TUNABLE } from '../../src/tuning/malloc';

const pins = pinnedVersions;

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: { start: string } };

test('The image is built on the Node.js version tools/versions.env pins, from the Debian release it names', () => {
  const { NODE_VERSION, DEBIAN_RELEASE } = pins();
  assert.match(NODE_VERSION ?? '', /^\d+\.\d+\.\d+$/, 'an exact version');
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  assert.equal(/^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1], `node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim`);
});

test('CI runs the tests on the Node.js version the image is built on', (t) => {
  const { NODE_VERSION } = pins();
  // Outside CI a developer may run the suite on any supported Node; .ci/run installs the pin.
  if (!underCI()) {
    t.skip(`not a CI run; this runs on ${process.version}`);
    return;
  }
  assert.equal(process.version, `v${NODE_VERSION}`);
});

test('engines states the same minimum the service checks at start, and the pinned version meets it', () => {
  const minimum = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(pkg.engines.node)?.[1];
  assert.ok(minimum, `engines.node is a lower bound: ${pkg.engines.node}`);
  assert.ok(atLeast(minimum, MINIMUM_NODE) && atLeast(MINIMUM_NODE, minimum), `engines ${minimum}, checked ${MINIMUM_NODE}`);
  assert.ok(atLeast(pins().NODE_VERSION ?? '0', MINIMUM_NODE));
  assert.ok(atLeast(process.versions.node, MINIMUM_NODE), 'the suite itself runs on a supported Node.js');
});

test('Both maintained LTS lines are supported: the other pin meets the minimum on another major, and CI runs the unit and API tests on it', () => {
  const { NODE_VERSION, NODE_LTS_OTHER_VERSION, NODE_OLDER_VERSION } = pins();
  assert.match(NODE_LTS_OTHER_VERSION ?? '', /^\d+\.\d+\.\d+$/, 'an exact version');
  const major = (v = '') => Number.parseInt(v, 10);
  assert.notEqual(major(NODE_LTS_OTHER_VERSION), major(NODE_VERSION), 'another line than the pin');
  assert.ok(atLeast(NODE_LTS_OTHER_VERSION ?? '0', MINIMUM_NODE), `${NODE_LTS_OTHER_VERSION} meets ${MINIMUM_NODE}`);
  // The oldest supported line is the minimum's: older than that is refused, not supported.
  assert.equal(major(MINIMUM_NODE), Math.min(major(NODE_VERSION), major(NODE_LTS_OTHER_VERSION)));
  assert.ok(!atLeast(NODE_OLDER_VERSION ?? '', MINIMUM_NODE), `NODE_OLDER_VERSION ${NODE_OLDER_VERSION} is older than ${MINIMUM_NODE}`);
  const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
  const other = ci.slice(ci.indexOf('scripts/node.sh "$NODE_LTS_OTHER_VERSION"'));
  assert.ok(other.length < ci.length, '.ci/run installs NODE_LTS_OTHER_VERSION with scripts/node.sh');
  assert.match(other, /^PATH="\$other:\$PATH" npm run test:unit$/m);
  assert.match(other, /^PATH="\$other:\$PATH" node --import tsx --test 'test\/api\/\*\.test\.ts'$/m);
});

/**
 * A Node.js older than the minimum: the one .ci/run installs (CLOUDMART_OLDER_NODE, from
 * tools/versions.env NODE_OLDER_VERSION), else one on this machine (Debian's, for instance).
 */
function olderNode(): { bin: string; version: string } | undefined {
  const candidates = [process.env.CLOUDMART_OLDER_NODE, '/usr/bin/node', '/usr/local/bin/node'].filter((b): b is string => Boolean(b));
  for (const bin of candidates) {
    if (!fs.existsSync(bin)) continue;
    const version = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (version && !atLeast(version, MINIMUM_NODE)) return { bin, version };
  }
  return undefined;
}

test('When started on an older Node.js, then each entry point exits 1 at once with one line naming the version it needs', (t) => {
  const old = olderNode();
  if (!old) {
    const message = `no Node.js older than ${MINIMUM_NODE} on this machine (bash scripts/node.sh <older version>, then CLOUDMART_OLDER_NODE=<its dir>/node)`;
    if (underCI()) throw new Error(`${message}; CI requires it (.ci/run installs NODE_OLDER_VERSION)`);
    t.skip(message);
    return;
  }
  const [, ...startArgs] = pkg.scripts.start.split(' ');
  const entries: string[][] = [startArgs, ['dist/server.js'], ['dist/scripts/migrate.js']];
  for (const args of entries) {
    const started = Date.now();
    // Tracing on: the OpenTelemetry SDK would be the first thing to load after the check.
    const run: SpawnSyncReturns<string> = spawnSync(old.bin, args, {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '', OTEL_SDK_DISABLED: 'false' },
    });
    const what: string = `${old.bin} ${args.join(' ')}`;
    assert.equal(run.status, 1, `${what}: exit status (stderr: ${run.stderr})`);
    assert.equal(run.stdout, '', `${what}: nothing on stdout`);
    assert.deepEqual(
      run.stderr.trimEnd().split('\n'),
      [`CloudMart needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${old.version} (${old.bin}).`],
      what,
    );
    assert.ok(Date.now() - started < 5000, `${what}: stops before loading its dependencies`);
  }
});

test(
  "When started as npm start runs it, then stderr stays empty (no ExperimentalWarning) and the process runs, same pid, with glibc's malloc tunable",
  { skip: process.platform !== 'linux' },
  async (t) => {
    const database = await createTestDatabase('npmstart');
    t.after(() => database.drop());
    const [, ...startArgs] = pkg.scripts.start.split(' ');
    const child = spawn(process.execPath, startArgs, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exit = once(child, 'close');
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    for await (const line of lines) if (line.includes('listening on')) break;
    const environ = fs.readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
    child.kill('SIGTERM');
    await exit;
    clearTimeout(timer);
    assert.ok(
      environ.includes(`GLIBC_TUNABLES=${MMAP_THRESHOLD_TUNABLE}`),
      `the spawned pid's environment: ${environ.filter((e) => e.startsWith('GLIBC')).join(' ')}`,
    );
    assert.equal(stderr, '', 'nothing on stderr from start to shutdown');
  },
);
