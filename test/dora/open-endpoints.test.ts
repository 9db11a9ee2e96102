import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config';
import { openWriteEndpoints } from '../../src/dora/open-endpoints';
import { startTestApp } from '../helpers/app';

const TOKEN = 'a-webhook-token-of-16+';
const DORA_AND_ALERTS = ['POST /api/dora/deployments', 'POST /api/dora/alertmanager', 'POST /api/alerts/:receiver'];

const warnings = (lines: Record<string, unknown>[]) => lines.filter((l) => l.level === 'warn' && Array.isArray(l.endpoints));

describe('Write endpoints open by design', () => {
  test('When WEBHOOK_TOKEN or GITHUB_WEBHOOK_SECRET is unset, then the endpoints each one guards are the open ones', () => {
    assert.deepEqual(openWriteEndpoints(loadConfig({})), [...DORA_AND_ALERTS, 'POST /api/dora/github']);
    assert.deepEqual(openWriteEndpoints(loadConfig({ WEBHOOK_TOKEN: TOKEN })), ['POST /api/dora/github']);
    assert.deepEqual(openWriteEndpoints(loadConfig({ GITHUB_WEBHOOK_SECRET: 's' })), DORA_AND_ALERTS);
    assert.deepEqual(openWriteEndpoints(loadConfig({ WEBHOOK_TOKEN: TOKEN, GITHUB_WEBHOOK_SECRET: 's' })), []);
  });

  test('When the service starts with NODE_ENV=production and neither is set, then it starts and one warning names every open endpoint', async () => {
    const t = await startTestApp({ env: { NODE_ENV: 'production' } });
    try {
      const found = warnings(t.logs.lines);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.deepEqual(found[0]?.endpoints, [...DORA_AND_ALERTS, 'POST /api/dora/github']);
      assert.match(String(found[0]?.msg), /WEBHOOK_TOKEN/);
      assert.match(String(found[0]?.msg), /GITHUB_WEBHOOK_SECRET/);
    } finally {
      await t.close();
    }
  });

  test('When the service starts outside production, or with both set, then nothing is said about them', async () => {
    const envs: Record<string, string>[] = [{}, { NODE_ENV: 'production', WEBHOOK_TOKEN: TOKEN, GITHUB_WEBHOOK_SECRET: 's' }];
    for (const env of envs) {
      const t = await startTestApp({ env });
      try {
        assert.deepEqual(warnings(t.logs.lines), [], JSON.stringify(env));
      } finally {
        await t.close();
      }
    }
  });
});
