import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';

const payload = (status: 'firing' | 'resolved') => ({
  version: '4',
  status,
  receiver: 'critical',
  groupKey: '{}:{alertname="HTTPErrorRate"}',
  alerts: [
    {
      status,
      labels: { alertname: 'HTTPErrorRate', severity: 'critical', service: 'cloudmart' },
      annotations: { summary: 'More than 10% of requests fail with 5xx' },
      startsAt: '2026-11-26T10:00:00Z',
      endsAt: status === 'resolved' ? '2026-11-26T10:05:00Z' : '0001-01-01T00:00:00Z',
      fingerprint: 'abc123',
    },
  ],
});

/** How many of these log lines are alert notifications ("alert firing: …", "alert resolved: …"). */
const alertLineCount = (lines: Record<string, unknown>[]) => lines.filter((l) => String(l.msg).startsWith('alert ')).length;

describe('POST /api/alerts/:receiver (Alertmanager notifications as log lines)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ cache: 'memory' });
  });
  after(() => t.close());

  test('When Alertmanager notifies a firing and then a resolved alert, then each becomes a log line and is counted', async () => {
    await request(t.app).post('/api/alerts/critical').send(payload('firing')).expect(200, { logged: 1 });
    await request(t.app).post('/api/alerts/critical').send(payload('resolved')).expect(200, { logged: 1 });
    const firing = t.logs.find((l) => l.msg === 'alert firing: HTTPErrorRate');
    assert.equal(firing?.level, 'warn');
    assert.equal(firing?.severity, 'critical');
    assert.equal(firing?.receiver, 'critical');
    assert.ok(t.logs.find((l) => l.msg === 'alert resolved: HTTPErrorRate' && l.level === 'info'));
    const metrics = (await request(t.app).get('/metrics')).text;
    assert.match(metrics, /^cloudmart_alert_notifications_total\{receiver="critical",status="firing"\} 1$/m);
  });

  test('When the receiver is unknown or the payload is not Alertmanager’s, then 4xx and nothing is logged', async () => {
    const before = t.logs.lines.length;
    await request(t.app).post('/api/alerts/slack').send(payload('firing')).expect(400);
    await request(t.app).post('/api/alerts/warning').send({ hello: 'world' }).expect(400);
    await request(t.app).post('/api/alerts/warning').set('Content-Type', 'text/plain').send('x').expect(415);
    assert.equal(alertLineCount(t.logs.lines), alertLineCount(t.logs.lines.slice(0, before)));
  });
});

describe('POST /api/alerts/:receiver with WEBHOOK_TOKEN', () => {
  const token = 'a-webhook-token-of-32-characters';
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ cache: 'memory', env: { WEBHOOK_TOKEN: token } });
  });
  after(() => t.close());

  test('When a notification carries no token or the wrong one, then 401 or 403 and nothing is logged; with it, it is logged', async () => {
    await request(t.app).post('/api/alerts/critical').send(payload('firing')).expect(401);
    await request(t.app).post('/api/alerts/critical').set('Authorization', 'Bearer not-the-token').send(payload('firing')).expect(403);
    assert.equal(alertLineCount(t.logs.lines), 0);
    await request(t.app).post('/api/alerts/critical').set('Authorization', `Bearer ${token}`).send(payload('firing')).expect(200, { logged: 1 });
    assert.equal(alertLineCount(t.logs.lines), 1);
  });
});
