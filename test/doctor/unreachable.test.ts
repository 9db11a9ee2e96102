/**
 * `npm run doctor` against a stack that is not there, half there, or is something
 * else: every component gets one clear line with a fix, the exit code is 1, the
 * run stays inside its timeouts, and no stack trace reaches the student.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../testkit/server-process';
import { assertNoStackTrace, lineOf, runDoctor } from './run-doctor';

const URL_FLAGS = [
  'backend-url',
  'prometheus-url',
  'alertmanager-url',
  'jaeger-url',
  'loki-url',
  'grafana-url',
  'kibana-url',
  'apm-server-url',
  'elasticsearch-url',
];

async function urlFlags(toUrl: () => Promise<string>): Promise<string[]> {
  const args: string[] = [];
  for (const flag of URL_FLAGS) args.push(`--${flag}`, await toUrl());
  return args;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

describe('npm run doctor without a stack', () => {
  test('nothing listening: one miss with a fix per component, exit 1, no stack trace', async () => {
    const args = await urlFlags(async () => `http://127.0.0.1:${await freePort()}`);
    const run = await runDoctor([...args, '--elastic', '--timeout', '2s']);
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stderr, '');
    assertNoStackTrace(run);
    const expected: Array<[string, string]> = [
      ['backend', 'ready'],
      ['prometheus', 'ready'],
      ['alertmanager', 'ready'],
      ['jaeger', 'traces of cloudmart-backend'],
      ['loki', 'backend log lines'],
      ['grafana', 'up'],
      ['elastic', 'APM server'],
      ['elastic', 'Kibana'],
      ['elastic', 'APM traces of cloudmart-backend'],
    ];
    for (const [component, check] of expected) {
      const line = lineOf(run.stdout, component, check);
      assert.ok(line, `${component} / ${check} in:\n${run.stdout}`);
      assert.equal(line.mark, 'MISS');
      assert.match(line.text, /nothing listens on 127\.0\.0\.1:\d+ \(connection refused\)/);
      assert.match(line.fix ?? '', /docker compose -f compose\/compose\.yaml /);
    }
    // What depends on an unreachable component is shown as not checked, not as a second failure.
    assert.equal(lineOf(run.stdout, 'prometheus', 'targets')?.mark, 'skip');
    assert.equal(lineOf(run.stdout, 'grafana', 'datasources')?.mark, 'skip');
    assert.match(run.stdout, /9 missed, 0 ok, 5 skipped/);
    // Inside its timeouts: every miss is the refusal itself, none waited for the 2 s timeout.
    assert.doesNotMatch(run.stdout, /within 2000 ms/);
  });

  test('the Elastic profile is skipped when nothing of it answers, unless --elastic', async () => {
    const args = await urlFlags(async () => `http://127.0.0.1:${await freePort()}`);
    const run = await runDoctor([...args, '--only', 'elastic']);
    assert.equal(run.code, 0, run.stdout);
    const line = lineOf(run.stdout, 'elastic', 'Kibana / APM server');
    assert.equal(line?.mark, 'skip');
    assert.match(line?.text ?? '', /Elastic profile not running .*--elastic to require it/);
  });

  describe('ports held by something else', () => {
    const silent = net.createServer(() => undefined); // accepts, never answers
    const slammer = net.createServer((s) => s.destroy()); // accepts, closes at once
    const stranger = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>my other project</html>'));
    let ports: { silent: number; slammer: number; stranger: number };

    before(async () => {
      ports = { silent: await listen(silent), slammer: await listen(slammer), stranger: await listen(stranger) };
    });
    after(() => {
      for (const s of [silent, slammer, stranger]) {
        s.close();
        if (s instanceof http.Server) s.closeAllConnections();
      }
    });

    test('a port that never answers costs one timeout, said as such', async () => {
      // A timeout long enough that the start of the doctor is small beside it: one timeout
      // takes 10 s, two would take 20.
      const run = await runDoctor(['--only', 'backend', '--backend-url', `http://127.0.0.1:${ports.silent}`, '--timeout', '10s']);
      assert.equal(run.code, 1);
      assert.match(lineOf(run.stdout, 'backend', 'ready')?.text ?? '', /no answer from 127\.0\.0\.1:\d+ within 10000 ms/);
      assert.ok(run.ms >= 10_000 && run.ms < 20_000, `took ${run.ms} ms: one 10 s timeout`);
      assertNoStackTrace(run);
    });

    test('a port that hangs up at once: a miss within the timeout, not a silent exit 0', async () => {
      // node's fetch can leave such a request pending forever with nothing else holding the process open.
      const run = await runDoctor(['--only', 'prometheus', '--prometheus-url', `http://127.0.0.1:${ports.slammer}`, '--timeout', '500ms']);
      assert.equal(run.code, 1, run.stdout);
      assert.match(
        lineOf(run.stdout, 'prometheus', 'ready')?.text ?? '',
        /no answer from 127\.0\.0\.1:\d+ within 500 ms|closed the connection without answering/,
      );
    });

    test('another program on the port: named as not being the expected service, with how to find it', async () => {
      const url = `http://127.0.0.1:${ports.stranger}`;
      const args = ['backend', 'prometheus', 'alertmanager', 'jaeger', 'loki', 'grafana'].flatMap((c) => [`--${c}-url`, url]);
      const run = await runDoctor([...args, '--no-elastic']);
      assert.equal(run.code, 1, run.stdout);
      assertNoStackTrace(run);
      for (const [component, check, what] of [
        ['backend', 'ready', "CloudMart's /health/ready"],
        ['prometheus', 'targets', "Prometheus's targets API"],
        ['alertmanager', 'ready', "Alertmanager's status API"],
        ['jaeger', 'traces of cloudmart-backend', "Jaeger's query API"],
        ['loki', 'backend log lines', "Loki's query API"],
        ['grafana', 'up', "Grafana's /api/health"],
      ] as const) {
        const line = lineOf(run.stdout, component, check);
        assert.equal(line?.mark, 'MISS', `${component} / ${check}:\n${run.stdout}`);
        assert.ok(line?.text.includes(`answered 200 but not like ${what}`), line?.text);
        assert.match(line?.fix ?? '', /another program may hold the port: .*lsof -i :\d+/);
      }
    });
  });

  test('bad options: exit 2 with the reason and the usage, no stack trace', async () => {
    for (const args of [['--prometheus-url', 'localhost:9090'], ['--only', 'tempo'], ['--timeout', 'soon'], ['--frobnicate']]) {
      const run = await runDoctor(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /^doctor: .+\n\nUsage: npm run doctor/);
      assertNoStackTrace(run);
    }
  });
});
