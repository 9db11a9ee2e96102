/**
 * Grafana and Loki cannot run here (AGPL builds are not available on this machine), so
 * these tests use STAND-INS: small HTTP servers that answer with the JSON shapes of the
 * documented APIs the doctor reads (Grafana: /api/health, /api/datasources,
 * /api/datasources/uid/:uid/health; Loki: /ready, /loki/api/v1/query_range,
 * /loki/api/v1/label/:name/values), and the Elastic profile, which cannot run here either
 * (Kibana: /api/status; the APM server: /; Elasticsearch: /traces-apm*\/_count). They prove
 * how the doctor reads those shapes, which credentials it sends and what it says for each
 * outcome; they do not prove that a real Grafana, Loki or Elastic stack answers exactly so.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { lineOf, runDoctor } from './run-doctor';

type Handler = (req: http.IncomingMessage, url: URL) => { status: number; body: unknown } | undefined;

/** What a stand-in was asked: the path and the credentials sent with it. */
type Seen = { path: string; authorization?: string };

async function standIn(handler: Handler): Promise<{ url: string; seen: Seen[]; close(): void }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    seen.push({ path: url.pathname, authorization: req.headers.authorization });
    const answer = handler(req, url) ?? { status: 404, body: { message: 'Not found' } };
    res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json' });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    seen,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

const PASSWORD = 'stand-in-password';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const DATASOURCES = [
  { id: 1, uid: 'prometheus', orgId: 1, name: 'Prometheus', type: 'prometheus' },
  { id: 2, uid: 'loki', orgId: 1, name: 'Loki', type: 'loki' },
  { id: 3, uid: 'jaeger', orgId: 1, name: 'Jaeger', type: 'jaeger' },
  { id: 4, uid: 'elasticsearch-apm', orgId: 1, name: 'Elasticsearch APM', type: 'elasticsearch' },
  { id: 5, uid: 'alertmanager', orgId: 1, name: 'Alertmanager', type: 'alertmanager' },
];

describe('the Grafana and Loki checks against stand-ins of their HTTP APIs', () => {
  let lokiDown = false;
  const health: Record<string, { status: number; body: unknown }> = {
    prometheus: { status: 200, body: { status: 'OK', message: 'Successfully queried the Prometheus API.' } },
    loki: { status: 200, body: { status: 'OK', message: 'Data source successfully connected.' } },
    jaeger: { status: 200, body: { status: 'OK', message: 'Data source is working' } },
    // Grafana answers 404 for a plugin without a health check.
    alertmanager: { status: 404, body: { message: 'Method not implemented' } },
  };
  let grafana: Awaited<ReturnType<typeof standIn>>;
  let loki: Awaited<ReturnType<typeof standIn>>;

  before(async () => {
    grafana = await standIn((req, url) => {
      if (url.pathname === '/api/health') return { status: 200, body: { commit: '0000000', database: 'ok', version: '12.4.2' } };
      if (req.headers.authorization !== BASIC) return { status: 401, body: { message: 'Invalid username or password' } };
      if (url.pathname === '/api/datasources') return { status: 200, body: DATASOURCES };
      const m = /^\/api\/datasources\/uid\/([\w-]+)\/health$/.exec(url.pathname);
      if (m) {
        if (m[1] === 'loki' && lokiDown)
          return { status: 400, body: { status: 'ERROR', message: 'Unable to connect with Loki. Please check the server logs for more details.' } };
        return health[m[1] ?? ''] ?? { status: 400, body: { status: 'ERROR', message: 'dial tcp: lookup elasticsearch: no such host' } };
      }
      return undefined;
    });
    loki = await standIn((_req, url) => {
      if (url.pathname === '/ready') return { status: 200, body: 'ready' };
      if (url.pathname === '/loki/api/v1/query_range') {
        const backend = url.searchParams.get('query') === '{service="backend"}' && !lokiDown;
        const ns = `${BigInt(Date.now() - 4000) * 1_000_000n}`;
        return {
          status: 200,
          body: {
            status: 'success',
            data: {
              resultType: 'streams',
              result: backend ? [{ stream: { service: 'backend', level: 'info' }, values: [[ns, '{"level":"info","msg":"GET /api/products 200"}']] }] : [],
              stats: {},
            },
          },
        };
      }
      if (url.pathname === '/loki/api/v1/label/service/values')
        return { status: 200, body: { status: 'success', data: lokiDown ? [] : ['postgres', 'redis'] } };
      return undefined;
    });
  });
  after(() => {
    grafana.close();
    loki.close();
  });

  const args = () => [
    '--only',
    'loki,grafana',
    '--grafana-url',
    grafana.url,
    '--loki-url',
    loki.url,
    '--kibana-url',
    'http://127.0.0.1:9',
    '--apm-server-url',
    'http://127.0.0.1:9',
    '--elasticsearch-url',
    'http://127.0.0.1:9',
  ];

  test('healthy: datasources checked with the admin password from the environment, Elasticsearch skipped without the profile', async () => {
    lokiDown = false;
    grafana.seen.length = 0;
    loki.seen.length = 0;
    const run = await runDoctor(args(), { GRAFANA_ADMIN_PASSWORD: PASSWORD });
    assert.equal(run.code, 0, run.stdout);
    // The password goes to Grafana's authenticated API only: not to /api/health, never to Loki.
    assert.deepEqual(
      grafana.seen.sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: '/api/datasources', authorization: BASIC },
        { path: '/api/datasources/uid/alertmanager/health', authorization: BASIC },
        { path: '/api/datasources/uid/jaeger/health', authorization: BASIC },
        { path: '/api/datasources/uid/loki/health', authorization: BASIC },
        { path: '/api/datasources/uid/prometheus/health', authorization: BASIC },
        { path: '/api/health', authorization: undefined },
      ],
    );
    assert.ok(loki.seen.length > 0, 'Loki was asked');
    assert.deepEqual(
      loki.seen.filter((s) => s.authorization !== undefined),
      [],
      'no credentials sent to Loki',
    );
    assert.match(lineOf(run.stdout, 'grafana', 'up')?.text ?? '', /up \(version 12\.4\.2\)/);
    const ds = lineOf(run.stdout, 'grafana', 'datasources');
    assert.equal(ds?.mark, 'ok', run.stdout);
    assert.equal(
      ds?.text,
      '3 healthy: Prometheus, Loki, Jaeger (Elasticsearch APM skipped: Elastic profile not running; Alertmanager unchecked: no health check)',
    );
    const logs = lineOf(run.stdout, 'loki', 'backend log lines');
    assert.equal(logs?.mark, 'ok');
    assert.match(logs?.text ?? '', /^latest \{service="backend"\} line \d+ s ago: \{"level":"info","msg":"GET \/api\/products 200"\}$/);
  });

  test('a wrong password: a miss saying where the password came from and how to give the right one', async () => {
    const run = await runDoctor(args(), { GRAFANA_ADMIN_PASSWORD: 'not-it' });
    assert.equal(run.code, 1);
    const ds = lineOf(run.stdout, 'grafana', 'datasources');
    assert.equal(ds?.mark, 'MISS');
    assert.match(ds?.text ?? '', /401, Grafana refused user admin with the password from GRAFANA_ADMIN_PASSWORD/);
    assert.match(ds?.fix ?? '', /GRAFANA_ADMIN_PASSWORD=\.\.\. npm run doctor/);
  });

  test('Loki down behind Grafana and no backend logs: both named, with where to look', async () => {
    lokiDown = true;
    try {
      const run = await runDoctor(args(), { GRAFANA_ADMIN_PASSWORD: PASSWORD });
      assert.equal(run.code, 1, run.stdout);
      const ds = lineOf(run.stdout, 'grafana', 'datasources');
      assert.equal(ds?.mark, 'MISS');
      assert.equal(ds?.text, 'Loki: Unable to connect with Loki. Please check the server logs for more details.');
      const logs = lineOf(run.stdout, 'loki', 'backend log lines');
      assert.equal(logs?.mark, 'MISS');
      assert.equal(logs?.text, 'no {service="backend"} line in the last 60 minutes');
      assert.match(logs?.fix ?? '', /no container logs reach Loki: docker compose -f compose\/compose\.yaml logs --tail=20 promtail/);
    } finally {
      lokiDown = false;
    }
  });

  test('Loki has other services but not the backend: the fix points at the backend, not at Promtail', async () => {
    const run = await runDoctor([...args(), '--loki-selector', '{service="frontend"}'], { GRAFANA_ADMIN_PASSWORD: PASSWORD });
    assert.equal(run.code, 1);
    assert.match(lineOf(run.stdout, 'loki', 'backend log lines')?.fix ?? '', /^Loki has logs of postgres, redis but none matching \{service="frontend"\}/);
  });
});

describe('doctor against stand-ins for the Elastic profile', () => {
  let apmDocuments = 0;
  let elastic: Awaited<ReturnType<typeof standIn>>;
  before(async () => {
    elastic = await standIn((_req, url) => {
      if (url.pathname === '/api/status') return { status: 200, body: { status: { overall: { level: 'available', summary: 'All services are available' } } } };
      if (url.pathname === '/') return { status: 200, body: { build_date: '2026-01-01T00:00:00Z', version: '9.2.4', publish_ready: true } };
      if (url.pathname === '/traces-apm*/_count' && url.searchParams.get('q') === 'service.name:"cloudmart-backend"')
        return { status: 200, body: { count: apmDocuments, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } } };
      return undefined;
    });
  });
  after(() => elastic.close());

  // One stand-in answers for all three: each check asks its own path.
  const args = () => ['--only', 'elastic', '--elastic', '--kibana-url', elastic.url, '--apm-server-url', elastic.url, '--elasticsearch-url', elastic.url];

  test('spans in Elasticsearch: the APM server, Kibana and the traces all ok', async () => {
    apmDocuments = 42;
    const run = await runDoctor(args());
    assert.equal(run.code, 0, run.stdout);
    assert.equal(lineOf(run.stdout, 'elastic', 'APM server')?.text, `${elastic.url} APM server 9.2.4 ready`);
    assert.equal(lineOf(run.stdout, 'elastic', 'Kibana')?.text, `${elastic.url} available`);
    assert.equal(lineOf(run.stdout, 'elastic', 'APM traces of cloudmart-backend')?.text, '42 APM documents of cloudmart-backend in traces-apm*');
  });

  test('no span in Elasticsearch: the fix says the collector forwards them only with OTELCOL_EXPORT=elastic', async () => {
    apmDocuments = 0;
    const run = await runDoctor(args());
    assert.equal(run.code, 1, run.stdout);
    const traces = lineOf(run.stdout, 'elastic', 'APM traces of cloudmart-backend');
    assert.equal(traces?.mark, 'MISS');
    assert.equal(traces?.text, 'Elasticsearch holds no APM span of cloudmart-backend');
    assert.match(
      traces?.fix ?? '',
      /through its collector only with OTELCOL_EXPORT=elastic: OTELCOL_EXPORT=elastic docker compose -f compose\/compose\.yaml --profile elastic up -d/,
    );
    assert.match(traces?.fix ?? '', /logs otel-collector/);
  });
});
