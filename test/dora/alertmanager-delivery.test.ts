/**
 * The project's alertmanager.yml, run by the pinned Alertmanager (scripts/backends.sh),
 * delivering to the DORA endpoint with and without WEBHOOK_TOKEN: its global http_config always sends
 * the token file's content as a bearer token, so both the file of a stack with no
 * token (Compose's default content) and a token matching the service's must get
 * through. (The end-to-end alert test runs the token case too, with Prometheus;
 * this one takes seconds.)
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test, type TestContext } from 'node:test';
import type { TestApp } from '../helpers/app';
import { startAlertmanager, type ManagedProcess } from '../helpers/monitoring';
import { readYaml } from '../helpers/stack';
import { requireTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';
import { WebhookRecorder, type Delivery } from '../helpers/webhook-recorder';
import { counts, startDoraApp } from './dora-app';

interface Stack {
  t: TestApp;
  server: Server;
  recorder: WebhookRecorder;
  alertmanager: ManagedProcess;
}

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) {
    await s.alertmanager.stop();
    await s.recorder.stop();
    s.server.close();
    await s.t.close();
  }
});

/** The service (WEBHOOK_TOKEN = serviceToken), behind a recorder, behind Alertmanager sending amToken. */
async function stack(t: TestContext, serviceToken: string | undefined, amToken: string): Promise<Stack | undefined> {
  const bin = requireTool('alertmanager', t);
  if (!bin) return undefined;
  const { t: app } = await startDoraApp({ env: serviceToken ? { WEBHOOK_TOKEN: serviceToken } : {} });
  const server = app.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const recorder = await new WebhookRecorder(() => url).start();
  const alertmanager = await startAlertmanager(bin, recorder.url, amToken);
  const s = { t: app, server, recorder, alertmanager };
  stacks.push(s);
  return s;
}

/** Posts one critical alert to Alertmanager and waits for its DORA delivery (the dora route has no group wait). */
async function fire(s: Stack, alertname: string): Promise<Delivery> {
  const res = await fetch(`${s.alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([{ labels: { alertname, severity: 'critical', service: 'cloudmart' }, startsAt: new Date().toISOString() }]),
  });
  assert.equal(res.status, 200, await res.text());
  return eventually(`${alertname} at the DORA endpoint`, () => s.recorder.find('/api/dora/alertmanager', alertname, 'firing')[0], { timeoutMs: 20_000 });
}

describe("Alertmanager's webhooks and WEBHOOK_TOKEN", () => {
  test("When the token is unset on both sides (the file holds Compose's default), then deliveries are accepted", async (t) => {
    const content = String(readYaml('compose/monitoring.yaml').configs['webhook-token'].content);
    const composeDefault = /^\$\{WEBHOOK_TOKEN:-([^}]+)\}$/.exec(content)?.[1];
    assert.ok(composeDefault, content);
    const s = await stack(t, undefined, composeDefault);
    if (!s) return;
    const delivery = await fire(s, 'NoTokenAlert');
    assert.equal(delivery.forwardedStatus, 200);
    assert.equal((await counts(s.t)).incidents, 1);
  });

  test('When both sides have the token, then deliveries carry it and are accepted; when they differ, then refused', async (t) => {
    const token = 'a-webhook-token-of-32-characters';
    const s = await stack(t, token, `${token}\n`);
    if (!s) return;
    const delivery = await fire(s, 'TokenAlert');
    assert.equal(delivery.authorization, `Bearer ${token}`, 'the file is read trimmed, as `echo token > file` writes it');
    assert.equal(delivery.forwardedStatus, 200);
    assert.equal((await counts(s.t)).incidents, 1);

    const other = await stack(t, token, 'not-the-service-token-at-all');
    if (!other) return;
    assert.equal((await fire(other, 'WrongTokenAlert')).forwardedStatus, 403);
    assert.equal((await counts(other.t)).incidents, 0);
  });
});
