import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { TestApp } from '../helpers/app';
import { sql } from '../../testkit/postgres';
import { githubSignature } from '../../src/dora/github-signature';
import { alertmanagerBody, counts, dbUrl, startDoraApp } from './dora-app';

interface IncidentRow {
  fingerprint: string;
  alertname: string;
  severity: string;
  service: string | null;
  opened_at: Date;
  resolved_at: Date | null;
  deployment_id: string | null;
}

async function incidents(t: TestApp): Promise<IncidentRow[]> {
  return sql<IncidentRow>(
    dbUrl(t),
    'SELECT fingerprint, alertname, severity, service, opened_at, resolved_at, deployment_id FROM dora_incidents ORDER BY opened_at, fingerprint',
  );
}

describe('POST /api/dora/alertmanager', () => {
  let t: TestApp;
  before(async () => {
    ({ t } = await startDoraApp());
  });
  after(() => t.close());

  const firing = { fingerprint: 'aaaa000000000001', startsAt: '2026-02-10T08:00:00.123456789Z' };
  const resolved = { ...firing, status: 'resolved' as const, endsAt: '2026-02-10T08:45:00Z' };

  test('When a critical alert fires, then an incident opens; when it resolves, then it closes at endsAt', async () => {
    const opened = await request(t.app)
      .post('/api/dora/alertmanager')
      .send(alertmanagerBody([firing]))
      .expect(200);
    assert.deepEqual(opened.body, { opened: 1, resolved: 0, ignored: 0 });
    let rows = (await incidents(t)).filter((r) => r.fingerprint === firing.fingerprint);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.opened_at.toISOString(), '2026-02-10T08:00:00.123Z', 'nanosecond startsAt kept to the millisecond');
    assert.equal(rows[0]?.resolved_at, null);
    assert.equal(rows[0]?.alertname, 'HTTPErrorRate');
    assert.equal(rows[0]?.service, 'cloudmart');

    const closed = await request(t.app)
      .post('/api/dora/alertmanager')
      .send(alertmanagerBody([resolved]))
      .expect(200);
    assert.deepEqual(closed.body, { opened: 0, resolved: 1, ignored: 0 });
    rows = (await incidents(t)).filter((r) => r.fingerprint === firing.fingerprint);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.resolved_at?.toISOString(), '2026-02-10T08:45:00.000Z');
  });

  test('When the same notifications are delivered again, then nothing changes', async () => {
    const before = await incidents(t);
    for (const body of [alertmanagerBody([firing]), alertmanagerBody([resolved]), alertmanagerBody([firing])]) {
      const res = await request(t.app).post('/api/dora/alertmanager').send(body).expect(200);
      assert.deepEqual(res.body, { opened: 0, resolved: 0, ignored: 1 });
    }
    assert.deepEqual(await incidents(t), before);
  });

  test('When a firing notification is delivered five times at once, then one incident opens', async () => {
    const alert = { fingerprint: 'aaaa000000000005', startsAt: '2026-02-11T08:00:00Z' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        request(t.app)
          .post('/api/dora/alertmanager')
          .send(alertmanagerBody([alert])),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(
      results.reduce((n, r) => n + (r.body as { opened: number }).opened, 0),
      1,
    );
    assert.equal((await incidents(t)).filter((r) => r.fingerprint === alert.fingerprint).length, 1);
  });

  test('When the same alert fires again later, then that is a second incident (new startsAt)', async () => {
    const again = { fingerprint: firing.fingerprint, startsAt: '2026-02-12T09:00:00Z' };
    const res = await request(t.app)
      .post('/api/dora/alertmanager')
      .send(alertmanagerBody([again]))
      .expect(200);
    assert.deepEqual(res.body, { opened: 1, resolved: 0, ignored: 0 });
    assert.equal((await incidents(t)).filter((r) => r.fingerprint === firing.fingerprint).length, 2);
  });

  test('When a warning (not an incident severity) fires, then it is ignored and nothing is written', async () => {
    const before = await counts(t);
    const res = await request(t.app)
      .post('/api/dora/alertmanager')
      .send(alertmanagerBody([{ severity: 'warning', alertname: 'HighRequestLatency', fingerprint: 'bbbb000000000001', startsAt: '2026-02-10T08:00:00Z' }]))
      .expect(200);
    assert.deepEqual(res.body, { opened: 0, resolved: 0, ignored: 1 });
    assert.deepEqual(await counts(t), before);
  });

  test('When a resolved notification arrives for a firing never seen, then the whole incident is recorded', async () => {
    const res = await request(t.app)
      .post('/api/dora/alertmanager')
      .send(alertmanagerBody([{ status: 'resolved', fingerprint: 'cccc000000000001', startsAt: '2026-02-13T10:00:00Z', endsAt: '2026-02-13T10:20:00Z' }]))
      .expect(200);
    assert.deepEqual(res.body, { opened: 0, resolved: 1, ignored: 0 });
    const row = (await incidents(t)).find((r) => r.fingerprint === 'cccc000000000001');
    assert.equal(row?.opened_at.toISOString(), '2026-02-13T10:00:00.000Z');
    assert.equal(row?.resolved_at?.toISOString(), '2026-02-13T10:20:00.000Z');
  });

  test('When payloads are bad, then 400 and nothing is written, not even their valid alerts', async () => {
    const good = { fingerprint: 'dddd000000000001', startsAt: '2026-02-14T10:00:00Z' };
    const withBadAlert = (mutate: (a: Record<string, unknown>) => void) => {
      const body = alertmanagerBody([good, { ...good, fingerprint: 'dddd000000000002' }]);
      mutate((body.alerts as Record<string, unknown>[])[1] ?? {});
      return body;
    };
    const bad: Record<string, unknown>[] = [
      { ...alertmanagerBody([good]), version: '3' },
      { ...alertmanagerBody([good]), alerts: 'none' },
      withBadAlert((a) => delete a.fingerprint),
      withBadAlert((a) => (a.startsAt = 'yesterday')),
      withBadAlert((a) => (a.startsAt = '2026-02-14T10:00:00')),
      withBadAlert((a) => (a.status = 'pending')),
      withBadAlert((a) => (a.labels = { severity: 'critical' })),
      withBadAlert((a) => (a.labels = { alertname: 'X', severity: 3 })),
      withBadAlert((a) => Object.assign(a, { status: 'resolved', endsAt: '2026-02-14T09:00:00Z' })),
    ];
    const before = await counts(t);
    for (const body of bad) {
      const res = await request(t.app).post('/api/dora/alertmanager').send(body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 200));
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
    const notJson = await request(t.app).post('/api/dora/alertmanager').set('Content-Type', 'application/json').send('{"version":"4",');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.code, 'INVALID_JSON');
    await request(t.app).post('/api/dora/alertmanager').set('Content-Type', 'text/plain').send('hello').expect(415);
    assert.deepEqual(await counts(t), before);
  });
});

describe('incidents are linked to the deployment before them', () => {
  let t: TestApp;
  before(async () => {
    ({ t } = await startDoraApp());
  });
  after(() => t.close());

  test("When an incident opens, then it is linked to the latest earlier deployment, of the alert's service if it has any", async () => {
    const deploy = (service: string, version: string, deployedAt: string) =>
      request(t.app)
        .post('/api/dora/deployments')
        .send({ service, version, commitSha: 'abcdef1', commitTime: '2026-01-01T00:00:00Z', deployedAt })
        .expect(201)
        .then((r) => String((r.body as { id: number }).id));
    const backendV1 = await deploy('cloudmart-backend', '1.0.0', '2026-01-10T00:00:00Z');
    const backendV2 = await deploy('cloudmart-backend', '1.1.0', '2026-01-20T00:00:00Z');
    const worker = await deploy('worker', '7', '2026-01-15T00:00:00Z');
    await request(t.app)
      .post('/api/dora/alertmanager')
      .send(
        alertmanagerBody([
          { fingerprint: 'e1', startsAt: '2026-01-12T00:00:00Z' }, // after v1 only
          { fingerprint: 'e2', startsAt: '2026-01-21T00:00:00Z' }, // after v2
          { fingerprint: 'e3', startsAt: '2026-01-21T00:00:00Z', service: 'worker' }, // worker's own, though v2 is later
          { fingerprint: 'e4', startsAt: '2026-01-05T00:00:00Z' }, // before any deployment
        ]),
      )
      .expect(200);
    const linked = Object.fromEntries((await incidents(t)).map((r) => [r.fingerprint, r.deployment_id]));
    assert.deepEqual(linked, { e1: backendV1, e2: backendV2, e3: worker, e4: null });
  });
});

describe('POST /api/dora/github', () => {
  let t: TestApp;
  before(async () => {
    ({ t } = await startDoraApp());
  });
  after(() => t.close());

  const sha = 'a'.repeat(40);
  const repository = { name: 'cloudmart', full_name: 'course/cloudmart' };
  const deploymentStatus = (state: string, environment = 'production') => ({
    deployment_status: { state, created_at: '2026-02-01T12:00:00Z' },
    deployment: { sha, environment, ref: 'main' },
    repository,
  });

  test('When a push and then a successful production deployment of its head arrive, then the deployment has the commit time', async () => {
    const push = await request(t.app)
      .post('/api/dora/github')
      .set('X-GitHub-Event', 'push')
      .send({
        ref: 'refs/heads/main',
        repository,
        commits: [
          { id: 'b'.repeat(40), timestamp: '2026-02-01T08:00:00+01:00', message: 'first' },
          { id: sha, timestamp: '2026-02-01T09:30:00Z', message: 'second' },
        ],
        head_commit: { id: sha, timestamp: '2026-02-01T09:30:00Z' },
      })
      .expect(200);
    assert.deepEqual(push.body, { event: 'push', commits: 2 });

    const res = await request(t.app)
      .post('/api/dora/github?service=cloudmart-backend')
      .set('X-GitHub-Event', 'deployment_status')
      .send(deploymentStatus('success'))
      .expect(201);
    assert.equal(res.body.recorded, true);
    assert.equal(res.body.deployment.service, 'cloudmart-backend');
    assert.equal(res.body.deployment.version, sha);
    assert.equal(res.body.deployment.commitTime, '2026-02-01T09:30:00.000Z');
    assert.equal(res.body.deployment.deployedAt, '2026-02-01T12:00:00.000Z');
    assert.equal(res.body.deployment.source, 'github');

    const again = await request(t.app)
      .post('/api/dora/github?service=cloudmart-backend')
      .set('X-GitHub-Event', 'deployment_status')
      .send(deploymentStatus('success'))
      .expect(200);
    assert.equal(again.body.recorded, false);
    assert.equal((await counts(t)).deployments, 1);
  });

  test('When a deployment fails, goes to staging, or the event is a ping, then nothing is recorded', async () => {
    const before = await counts(t);
    for (const body of [deploymentStatus('failure'), deploymentStatus('in_progress'), deploymentStatus('success', 'staging')]) {
      const res = await request(t.app).post('/api/dora/github').set('X-GitHub-Event', 'deployment_status').send(body).expect(200);
      assert.equal(res.body.recorded, false);
    }
    await request(t.app).post('/api/dora/github').set('X-GitHub-Event', 'ping').send({ zen: 'Keep it logically awesome.' }).expect(200);
    assert.deepEqual(await counts(t), before);
  });

  test('When GitHub payloads are bad or the event header is missing, then 400 and nothing is written', async () => {
    const before = await counts(t);
    const cases: [string | undefined, unknown][] = [
      [undefined, deploymentStatus('success')],
      [
        'push',
        {
          ref: 'refs/heads/main',
          repository,
          commits: [
            { id: 'c'.repeat(40), timestamp: '2026-02-01T08:00:00Z' },
            { id: 'not-a-sha', timestamp: '2026-02-01T08:00:00Z' },
          ],
        },
      ],
      ['push', { ref: 'refs/heads/main', commits: [] }],
      ['deployment_status', { ...deploymentStatus('success'), deployment: { environment: 'production' } }],
      ['deployment_status', { ...deploymentStatus('success'), deployment_status: { state: 'success', created_at: 'noon' } }],
    ];
    for (const [event, body] of cases) {
      const req = request(t.app).post('/api/dora/github');
      if (event) req.set('X-GitHub-Event', event);
      const res = await req.send(body as object);
      assert.equal(res.status, 400, `${event}: ${JSON.stringify(res.body)}`);
    }
    await request(t.app).post('/api/dora/github?service=a&service=b').set('X-GitHub-Event', 'ping').send({}).expect(400);
    assert.deepEqual(await counts(t), before);
  });
});

describe('POST /api/dora/github with GITHUB_WEBHOOK_SECRET', () => {
  const secret = 'a webhook secret ';
  let t: TestApp;
  before(async () => {
    ({ t } = await startDoraApp({ env: { GITHUB_WEBHOOK_SECRET: secret } }));
  });
  after(() => t.close());

  const push = JSON.stringify({
    ref: 'refs/heads/main',
    repository: { name: 'cloudmart', full_name: 'course/cloudmart' },
    commits: [{ id: 'd'.repeat(40), timestamp: '2026-02-01T08:00:00Z' }],
  });
  const deliver = (body: string, signature?: string) => {
    const req = request(t.app).post('/api/dora/github').set('X-GitHub-Event', 'push').set('Content-Type', 'application/json');
    if (signature !== undefined) req.set('X-Hub-Signature-256', signature);
    return req.send(body);
  };

  test('When a delivery is signed with the secret, then it is recorded', async () => {
    const res = await deliver(push, githubSignature(secret, push)).expect(200);
    assert.deepEqual(res.body, { event: 'push', commits: 1 });
    assert.equal((await counts(t)).commits, 1);
  });

  test('When a delivery is unsigned, signed with another secret, or altered after signing, then it is refused and nothing is written', async () => {
    const before = await counts(t);
    const unsigned = await deliver(push).expect(401);
    assert.equal(unsigned.body.error.code, 'SIGNATURE_REQUIRED');

    const altered = push.replace('d'.repeat(40), 'e'.repeat(40));
    const refused: [body: string, signature: string][] = [
      [push, githubSignature('another secret', push)],
      [push, githubSignature(secret.trim(), push)],
      [altered, githubSignature(secret, push)],
      [push, 'sha256=not-hex'],
    ];
    for (const [body, signature] of refused) {
      const res = await deliver(body, signature).expect(403);
      assert.equal(res.body.error.code, 'SIGNATURE_MISMATCH');
      assert.doesNotMatch(JSON.stringify(res.body), /at .*\.ts|stack/);
    }
    assert.deepEqual(await counts(t), before);
  });

  test('When a delivery has a signature header but no body at all, then it is refused', async () => {
    // supertest always sends a body (or a length); a raw request is the only way to send none.
    const server = createServer(t.app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.end(
        'POST /api/dora/github HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-GitHub-Event: ping\r\n' +
          `X-Hub-Signature-256: ${githubSignature(secret, '')}\r\nConnection: close\r\n\r\n`,
      );
      let response = '';
      for await (const chunk of socket) response += String(chunk);
      assert.match(response, /^HTTP\/1\.1 4\d\d /);
      assert.doesNotMatch(response, /"recorded"/);
    } finally {
      server.close();
    }
  });

  test('When a signed delivery is not valid JSON, then 400, as without a secret', async () => {
    const res = await deliver('{"ref":', githubSignature(secret, '{"ref":')).expect(400);
    assert.equal(res.body.error.code, 'INVALID_JSON');
  });
});

describe('the webhook endpoints with WEBHOOK_TOKEN', () => {
  const token = 'a-webhook-token-of-32-characters';
  let t: TestApp;
  before(async () => {
    ({ t } = await startDoraApp({ env: { WEBHOOK_TOKEN: token } }));
  });
  after(() => t.close());

  const alert = alertmanagerBody([{ fingerprint: 'bbbb000000000001', startsAt: '2026-02-11T08:00:00Z' }]);
  const deployment = { service: 'cloudmart-ci', version: '9.9.9', commitSha: 'f'.repeat(40), commitTime: '2026-02-11T07:00:00Z' };
  const endpoints: [path: string, body: object][] = [
    ['/api/dora/alertmanager', alert],
    ['/api/dora/deployments', deployment],
  ];

  test('When a push carries no token or the wrong one, then 401 or 403 and nothing is written', async () => {
    const before = await counts(t);
    for (const [path, body] of endpoints) {
      const missing = await request(t.app).post(path).send(body).expect(401);
      assert.equal(missing.body.error.code, 'UNAUTHORIZED');
      assert.match(missing.body.error.message, /WEBHOOK_TOKEN/);
      assert.equal(missing.headers['www-authenticate'], 'Bearer realm="cloudmart-webhooks"');
      const wrong = await request(t.app).post(path).set('Authorization', `Bearer ${token}x`).send(body).expect(403);
      assert.equal(wrong.body.error.code, 'FORBIDDEN');
      await request(t.app).post(path).set('Authorization', token).send(body).expect(401);
    }
    assert.deepEqual(await counts(t), before);
  });

  test('When a push without the token has a body it would refuse, then it is refused for the token first', async () => {
    const res = await request(t.app).post('/api/dora/alertmanager').set('Content-Type', 'application/json').send('{"alerts":').expect(401);
    assert.equal(res.body.error.code, 'UNAUTHORIZED');
  });

  test('When a push carries the token, then it is recorded as without one', async () => {
    const opened = await request(t.app).post('/api/dora/alertmanager').set('Authorization', `Bearer ${token}`).send(alert).expect(200);
    assert.deepEqual(opened.body, { opened: 1, resolved: 0, ignored: 0 });
    await request(t.app).post('/api/dora/deployments').set('Authorization', `bearer  ${token}`).send(deployment).expect(201);
    assert.deepEqual({ ...(await counts(t)), commits: 0 }, { deployments: 1, incidents: 1, commits: 0 });
  });

  test('When GitHub delivers or anyone reads the metrics, then no token is asked for (GitHub signs instead)', async () => {
    await request(t.app).post('/api/dora/github').set('X-GitHub-Event', 'ping').send({ zen: 'Keep it logically awesome.' }).expect(200);
    await request(t.app).get('/api/dora-metrics').expect(200);
  });
});
