import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_AMOUNT, parseLoadArgs, UsageError } from '../../load/args';
import { checkTarget, isLoopbackHost, TargetRefused } from '../../load/target';

test('When a host is loopback (localhost, 127.0.0.0/8, ::1), then it is a target; anything else is not', () => {
  for (const h of ['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '127.1.2.3', '[::1]', '::1', '[::ffff:127.0.0.1]', '[0:0:0:0:0:0:0:1]']) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (const h of [
    '0.0.0.0',
    '10.0.0.5',
    '192.168.1.10',
    '172.16.0.1',
    '8.8.8.8',
    '128.0.0.1',
    'example.com',
    'localhost.example.com',
    'backend',
    '[::]',
    '[::ffff:10.0.0.1]',
    '[fe80::1]',
  ]) {
    assert.ok(!isLoopbackHost(h), h);
  }
});

test('When a URL is not loopback, then it is refused unless --allow-remote; a path or credentials are refused too', () => {
  assert.equal(checkTarget('http://localhost:3000', false), 'http://localhost:3000');
  assert.equal(checkTarget('http://127.0.0.1:3000/', false), 'http://127.0.0.1:3000');
  assert.equal(checkTarget('http://[::ffff:127.0.0.1]:3000', false), 'http://[::ffff:7f00:1]:3000');
  assert.throws(() => checkTarget('http://[::ffff:10.0.0.1]:3000', false), TargetRefused);
  assert.throws(
    () => checkTarget('http://backend:3000', false),
    (e: Error) => e instanceof TargetRefused && /only loopback/.test(e.message),
  );
  assert.equal(checkTarget('http://backend:3000', true), 'http://backend:3000');
  assert.throws(() => checkTarget('http://localhost:3000/api', false), TargetRefused);
  assert.throws(() => checkTarget('http://u:p@localhost:3000', false), TargetRefused);
  assert.throws(() => checkTarget('ftp://localhost', false), TargetRefused);
  assert.throws(() => checkTarget('not a url', false), TargetRefused);
});

test('When options are given, then they are parsed and bounded', () => {
  const o = parseLoadArgs(['checkout', '--duration', '2m', '--connections', '3', '--rate', '0', '--json'], { CHAOS_TOKEN: 'from-env' });
  assert.ok(o !== 'help');
  assert.deepEqual(
    { scenario: o.scenario, d: o.durationSeconds, c: o.connections, r: o.rate, a: o.amount, t: o.token, url: o.url, json: o.json },
    { scenario: 'checkout', d: 120, c: 3, r: 0, a: MAX_AMOUNT, t: 'from-env', url: 'http://localhost:3000', json: true },
  );
  assert.equal(parseLoadArgs(['--help'], {}), 'help');
  const seconds = (d: string) => {
    const x = parseLoadArgs(['browse', '--duration', d], {});
    assert.ok(x !== 'help');
    return x.durationSeconds;
  };
  assert.equal(seconds('90'), 90, 'a bare number is seconds, as the usage says');
  assert.equal(seconds('1500ms'), 1.5);
  assert.equal(seconds('1m30s'), 90);
  const bad: string[][] = [
    [],
    ['nope'],
    ['browse', 'extra'],
    ['browse', '--duration', '601s'],
    ['browse', '--duration', '11m'],
    ['browse', '--duration', 'soon'],
    ['browse', '--amount', String(MAX_AMOUNT + 1)],
    ['browse', '--connections', '0'],
    ['browse', '--rate', '-1'],
    ['browse', '--frobnicate'],
  ];
  for (const argv of bad) assert.throws(() => parseLoadArgs(argv, {}), UsageError, argv.join(' '));
});
