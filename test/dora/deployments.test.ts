import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { recordOwnDeployment } from '../../src/dora';
import type { TestApp } from '../helpers/app';
import { createTestDatabase, sql } from '../../testkit/postgres';
import { counts, dbUrl, startDoraApp } from './dora-app';

interface DeploymentRow {
  service: string;
  version: string;
  commit_sha: string | null;
  commit_time: Date | null;
  deployed_at: Date;
  source: string;
}

function deploymentsOf(target: TestApp | string, service: string): Promise<DeploymentRow[]> {
  return sql<DeploymentRow>(
    typeof target === 'string' ? target : dbUrl(target),
    'SELECT service, version, commit_sha, commit_time, deployed_at, source FROM dora_deployments WHERE service = $1 ORDER BY id',
    [service],
  );
}

describe('POST /api/dora/deployments', () => {
  let t: TestApp;
  before(async () => {
    ({ t } = await startDoraApp());
  });
  after(() => t.close());

  const body = {
    service: 'cloudmart-backend',
    version: '1.4.0',
    commitSha: 'ABCDEF1234567',
    commitTime: '2026-03-01T09:00:00+09:00',
    deployedAt: '2026-03-01T02:30:00Z',
  };

  test('When a deployment is posted, then 201 with it in UTC; posted again, then 200 with the same record', async () => {
    const created = await request(t.app).post('/api/dora/deployments').send(body).expect(201);
    assert.deepEqual(
      { ...created.body, id: 0 },
      {
        id: 0,
        service: 'cloudmart-backend',
        version: '1.4.0',
        commitSha: 'abcdef1234567',
        commitTime: '2026-03-01T00:00:00.000Z',
        deployedAt: '2026-03-01T02:30:00.000Z',
        status: 'success',
        source: 'api',
      },
    );
    const again = await request(t.app)
      .post('/api/dora/deployments')
      .send({ ...body, deployedAt: '2026-03-02T00:00:00Z' })
      .expect(200);
    assert.deepEqual(again.body, created.body, 'the first record stands');
    assert.equal((await deploymentsOf(t, 'cloudmart-backend')).length, 1);
  });

  test('When the same version is posted five times at once, then one 201, four 200 and one row', async () => {
    const b = { ...body, version: '1.5.0' };
    const results = await Promise.all(Array.from({ length: 5 }, () => request(t.app).post('/api/dora/deployments').send(b)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 201]);
    assert.equal(new Set(results.map((r) => (r.body as { id: number }).id)).size, 1);
    assert.equal((await deploymentsOf(t, 'cloudmart-backend')).filter((d) => d.version === '1.5.0').length, 1);
  });

  test('When deployedAt is left out, then the deployment is stamped now', async () => {
    const t0 = Date.now();
    const res = await request(t.app)
      .post('/api/dora/deployments')
      .send({ ...body, version: '1.6.0', deployedAt: undefined })
      .expect(201);
    const at = Date.parse((res.body as { deployedAt: string }).deployedAt);
    assert.ok(at >= t0 - 1000 && at <= Date.now() + 1000);
  });

  test('When the body is bad, then 400 naming the field, and nothing is written', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ ...body, service: '' }, 'body.service'],
      [{ ...body, version: undefined }, 'body.version'],
      [{ ...body, commitSha: 'xyz' }, 'body.commitSha'],
      [{ ...body, commitTime: undefined }, 'body.commitTime'],
      [{ ...body, commitTime: '2026-03-01 09:00' }, 'body.commitTime'],
      [{ ...body, commitTime: '2026-03-01T09:00:00' }, 'body.commitTime'],
      [{ ...body, commitTime: '2026-03-01T03:00:00Z' }, 'body.commitTime'],
      [{ ...body, deployedAt: new Date(Date.now() + 3_600_000).toISOString() }, 'body.deployedAt'],
      [{ ...body, environment: 'prod' }, 'body'],
    ];
    const before = await counts(t);
    for (const [b, path] of bad) {
      const res = await request(t.app)
        .post('/api/dora/deployments')
        .send({ ...b, version: b.version === undefined ? undefined : '9.9.9' });
      assert.equal(res.status, 400, JSON.stringify(b));
      const paths = (res.body.error.details as { path: string }[]).map((d) => d.path);
      assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    }
    assert.deepEqual(await counts(t), before);
  });
});

describe('the service records its own deployment at start', () => {
  const env = {
    SERVICE_VERSION: '2.0.0-test',
    GIT_COMMIT_SHA: '0123456789abcdef0123456789abcdef01234567',
    GIT_COMMIT_TIME: '2026-03-10T08:00:00Z',
    DORA_RECORD_DEPLOYMENT: 'true',
  };

  test('When two replicas of one version start on one database at once, then the version is recorded once', async () => {
    const database = await createTestDatabase('dora');
    const [first, second] = await Promise.all([0, 1].map(() => startDoraApp({ env, database: { url: database.url } })));
    try {
      if (!first || !second) throw new Error('two replicas expected');
      const rows = await deploymentsOf(database.url, 'cloudmart-backend');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.version, '2.0.0-test');
      assert.equal(rows[0]?.commit_sha, env.GIT_COMMIT_SHA);
      assert.equal(rows[0]?.commit_time?.toISOString(), '2026-03-10T08:00:00.000Z');
      assert.equal(rows[0]?.source, 'self');
      const messages = [...first.t.logs.lines, ...second.t.logs.lines].map((l) => String(l.msg)).filter((m) => m.startsWith('DORA'));
      assert.deepEqual(messages.sort(), ['DORA: deployment recorded', 'DORA: this version is already recorded as a deployment']);
    } finally {
      await Promise.all([first?.t.close(), second?.t.close()]);
      await database.drop();
    }
  });

  test('When DORA_RECORD_DEPLOYMENT=false, then nothing is recorded; without a commit time, it is recorded without one', async () => {
    const off = await startDoraApp({ env: { ...env, DORA_RECORD_DEPLOYMENT: 'false' } });
    try {
      await off.dora.recordOwnDeployment();
      assert.equal((await counts(off.t)).deployments, 0);
      const result = await recordOwnDeployment(off.t.db, { service: { ...off.t.config.service, commitTime: undefined, version: '2.0.1' } }, off.t.logger);
      assert.equal(result?.created, true);
      assert.equal(result?.deployment.commitTime, null);
      assert.ok(off.t.logs.find((l) => String(l.msg).includes('without GIT_COMMIT_TIME')));
    } finally {
      await off.t.close();
    }
  });

  test('When the database is unavailable, then recording logs a warning and does not throw', async () => {
    const app = await startDoraApp();
    await app.t.db.close();
    try {
      assert.equal(await recordOwnDeployment(app.t.db, app.t.config, app.t.logger), undefined);
      assert.ok(app.t.logs.find((l) => l.level === 'warn' && String(l.msg).includes('could not record')));
    } finally {
      await app.t.close();
    }
  });
});

describe('npm run dora:deploy', () => {
  // As a CI pipeline runs it: against a service that asks for the webhook token.
  const token = 'a-webhook-token-of-32-characters';
  let t: TestApp;
  let server: Server;
  let url: string;
  let repo: string;
  const commitTime = '2026-03-20T10:15:00+09:00';

  before(async () => {
    ({ t } = await startDoraApp({ env: { WEBHOOK_TOKEN: token } }));
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A checkout of its own with a known commit time, so the test does not depend on this repository's history.
    repo = mkdtempSync(path.join(os.tmpdir(), 'dora-deploy-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=CI', '-c', 'user.email=ci@example.invalid', ...args], {
        cwd: repo,
        env: { PATH: process.env.PATH ?? '', GIT_COMMITTER_DATE: commitTime, GIT_AUTHOR_DATE: commitTime },
      });
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'release');
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
    rmSync(repo, { recursive: true, force: true });
  });

  function run(args: string[], gitDir = repo, webhookToken = token): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const script = path.resolve(__dirname, '../../src/scripts/dora-deploy.ts');
    // Run from the project (where tsx resolves); GIT_DIR points git at the checkout under test.
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: path.resolve(__dirname, '../..'),
      env: { PATH: process.env.PATH ?? '', CLOUDMART_URL: url, GIT_DIR: path.join(gitDir, '.git'), WEBHOOK_TOKEN: webhookToken },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  test('When run in a checkout, then HEAD is recorded with its commit time; run again, then it says already recorded', async () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const first = await run(['--version', '3.0.0', '--service', 'cloudmart-ci']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^recorded deployment cloudmart-ci@3\.0\.0/);
    const rows = await deploymentsOf(t, 'cloudmart-ci');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.commit_sha, head);
    assert.equal(rows[0]?.commit_time?.toISOString(), '2026-03-20T01:15:00.000Z');
    assert.equal(rows[0]?.source, 'api');

    const second = await run(['--version', '3.0.0', '--service', 'cloudmart-ci']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already recorded/);
    assert.equal((await deploymentsOf(t, 'cloudmart-ci')).length, 1);
  });

  test('When the service refuses, cannot be reached, or there is no git checkout, then exit 1 with the reason', async () => {
    const refused = await run(['--version', 'x'.repeat(101), '--service', 'cloudmart-ci']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /answered 400/);

    const noToken = await run(['--version', '3.0.3', '--service', 'cloudmart-ci'], repo, '');
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /answered 401: .*WEBHOOK_TOKEN/);

    const unreachable = await run(['--version', '3.0.1', '--url', 'http://127.0.0.1:9']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /could not reach http:\/\/127\.0\.0\.1:9\/api\/dora\/deployments/);

    const noGit = mkdtempSync(path.join(os.tmpdir(), 'dora-nogit-'));
    try {
      const outside = await run(['--version', '3.0.2'], noGit);
      assert.equal(outside.code, 1);
      assert.match(outside.stderr, /git rev-parse HEAD failed/);
    } finally {
      rmSync(noGit, { recursive: true, force: true });
    }

    const usage = await run(['--verzion', '1']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /usage: npm run dora:deploy/);
    assert.equal((await deploymentsOf(t, 'cloudmart-ci')).filter((d) => d.version !== '3.0.0').length, 0);
  });
});
