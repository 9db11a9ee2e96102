import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import pg from 'pg';
import { createLogger } from '../../src/telemetry/logger';
import { LogCapture } from '../helpers/log-capture';

const TRACE = { traceId: 'a1'.repeat(16), spanId: 'b2'.repeat(8), traceFlags: TraceFlags.SAMPLED };

describe('log lines and the active trace', () => {
  const manager = new AsyncLocalStorageContextManager();
  before(() => context.setGlobalContextManager(manager.enable()));
  after(() => {
    context.disable();
    manager.disable();
  });

  const inSpan = (fn: () => void) => context.with(trace.setSpanContext(ROOT_CONTEXT, TRACE), fn);

  test('When a line is written inside a span, then it carries the span ids, and its own fields are kept', () => {
    const logs = new LogCapture();
    const logger = createLogger({ destination: logs });
    inSpan(() => logger.info({ order: 7 }, 'placed'));
    inSpan(() => logger.child({ req_id: 'r1' }).warn('slow'));
    assert.deepEqual(
      logs.lines.map(({ trace_id, span_id, order, req_id, msg }) => ({ trace_id, span_id, order, req_id, msg })),
      [
        { trace_id: TRACE.traceId, span_id: TRACE.spanId, order: 7, req_id: undefined, msg: 'placed' },
        { trace_id: TRACE.traceId, span_id: TRACE.spanId, order: undefined, req_id: 'r1', msg: 'slow' },
      ],
    );
  });

  test('When a line is written inside a span, then trace_flags are its flags as two lowercase hex digits', () => {
    const logs = new LogCapture();
    const logger = createLogger({ destination: logs });
    inSpan(() => logger.info('sampled'));
    context.with(trace.setSpanContext(ROOT_CONTEXT, { ...TRACE, traceFlags: TraceFlags.NONE }), () => logger.info('not sampled'));
    assert.deepEqual(
      logs.lines.map(({ trace_flags }) => trace_flags),
      ['01', '00'],
    );
  });

  test('When a line brings its own trace ids (the request line), then those are written, not the active span', () => {
    const logs = new LogCapture();
    const logger = createLogger({ destination: logs });
    const own = { trace_id: 'c3'.repeat(16), span_id: 'd4'.repeat(8) };
    inSpan(() => logger.info({ route: '/api/products', ...own }, 'GET /api/products 200'));
    assert.equal(logs.lines[0]?.trace_id, own.trace_id);
    assert.equal(logs.lines[0]?.span_id, own.span_id);
  });

  test('When a line is written outside any trace, then it has no trace ids and is otherwise unchanged', () => {
    const logs = new LogCapture();
    const logger = createLogger({ destination: logs });
    const fields = { route: '/api/products', status_code: 200, trace_id: undefined };
    logger.info(fields, 'GET /api/products 200');
    logger.info('started');
    assert.deepEqual(Object.keys(logs.lines[0] ?? {}).sort(), ['level', 'msg', 'route', 'service', 'status_code', 'time']);
    assert.deepEqual(Object.keys(logs.lines[1] ?? {}).sort(), ['level', 'msg', 'service', 'time']);
    assert.deepEqual(fields, { route: '/api/products', status_code: 200, trace_id: undefined }, "the caller's object is not modified");
  });
});

describe('errors in log lines', () => {
  test('When a Postgres error is logged, then the line keeps its class, SQLSTATE and message, not the row values in its detail', () => {
    const logs = new LogCapture();
    const logger = createLogger({ destination: logs });
    const err = Object.assign(new pg.DatabaseError('duplicate key value violates unique constraint "orders_pkey"', 0, 'error'), {
      code: '23505',
      detail: 'Key (customer_email)=(secret@example.com) already exists.',
    });
    logger.error({ err }, 'unhandled error');
    assert.deepEqual(logs.lines[0]?.err, { type: 'DatabaseError', code: '23505', message: 'duplicate key value violates unique constraint "orders_pkey"' });
    assert.doesNotMatch(JSON.stringify(logs.lines), /secret@example\.com/);
  });

  test('When any other error is logged, then pino writes it whole, with its type, message, stack and own fields', () => {
    const logs = new LogCapture();
    const logger = createLogger({ destination: logs });
    logger.error({ err: Object.assign(new TypeError('boom'), { code: 'E_BOOM' }) }, 'failed');
    const err = logs.lines[0]?.err as Record<string, unknown>;
    assert.equal(err.type, 'TypeError');
    assert.equal(err.message, 'boom');
    assert.equal(err.code, 'E_BOOM');
    assert.match(String(err.stack), /^TypeError: boom/);
  });
});
