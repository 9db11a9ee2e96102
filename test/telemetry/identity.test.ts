import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OtlpReceiver } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, sql, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess } from '../../testkit/server-process';
import { eventually } from '../helpers/wait';

/**
 * The service's name comes from its config alone (src/config.ts): whichever variable
 * names it, the log lines, the spans' service.name, the build-info metric and the DORA
 * deployment record say the same.
 */
describe('one service identity in logs, spans, metrics and DORA', () => {
  let database: TestDatabase;
  let receiver: OtlpReceiver;
  before(async () => {
    database = await createTestDatabase('identity');
    receiver = await new OtlpReceiver().start();
  });
  after(async () => {
    await receiver.stop();
    await database.drop();
  });

  const cases: { variables: Record<string, string>; name: string }[] = [
    { variables: {}, name: 'cloudmart-backend' },
    { variables: { SERVICE_NAME: 'shop-course' }, name: 'shop-course' },
    { variables: { ELASTIC_APM_SERVICE_NAME: 'shop-elastic', SERVICE_NAME: 'shop-course' }, name: 'shop-elastic' },
    { variables: { OTEL_RESOURCE_ATTRIBUTES: 'team=students,service.name=shop-resource', SERVICE_NAME: 'shop-course' }, name: 'shop-resource' },
    { variables: { OTEL_SERVICE_NAME: 'shop-otel', OTEL_RESOURCE_ATTRIBUTES: 'service.name=shop-resource', SERVICE_NAME: 'shop-course' }, name: 'shop-otel' },
  ];

  for (const [i, { variables, name }] of cases.entries()) {
    const given = Object.keys(variables).join(' + ') || 'no naming variable';
    test(`When the service is named by ${given}, then everything calls it ${name}`, async () => {
      const version = `9.${i}.0-identity`;
      const server = await startServerProcess({
        DATABASE_URL: database.url,
        REDIS_URL,
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        SERVICE_VERSION: version,
        DORA_RECORD_DEPLOYMENT: 'true',
        ...variables,
      });
      try {
        assert.equal((await fetch(`${server.url}/api/products/1`)).status, 200);

        const line = await eventually('the request log line', () => server.logs.find((l) => l.route === '/api/products/:id'));
        assert.equal(line.service, name, 'log line');
        assert.ok(
          server.logs.every((l) => l.service === name),
          'every log line, the tracer start-up lines included',
        );

        const span = await eventually('the server span', () =>
          receiver.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/products/:id' && s.traceId === line.trace_id),
        );
        assert.equal(span.resource['service.name'], name, 'span resource');

        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        assert.match(metrics, new RegExp(`^cloudmart_build_info\\{service="${name}",version="${version.replace(/\./g, '\\.')}"`, 'm'), 'build info metric');

        const rows = await sql<{ service: string }>(database.url, 'SELECT service FROM dora_deployments WHERE version = $1', [version]);
        assert.deepEqual(
          rows.map((r) => r.service),
          [name],
          'DORA deployment record',
        );
      } finally {
        assert.equal(await server.stop(), 0);
      }
    });
  }
});
