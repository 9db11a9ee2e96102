import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import { LOG_LEVELS } from '../config';
import { currentTraceIds } from './tracer';

export type { Logger } from 'pino';

const levels = new Set<string>(LOG_LEVELS);

export interface LoggerOptions {
  level?: string;
  /** Also append JSON lines to this file (the course mounts ./logs for Promtail). */
  file?: string;
  service?: string;
  /** Where stdout lines go; tests pass a stream to read what the service logs. */
  destination?: DestinationStream;
}

/**
 * Asynchronous, batched writes: a synchronous write per line is the single largest
 * logging cost under load, and even an asynchronous write per line costs a thread-pool
 * round trip each. Lines collect until minLength bytes are pending (a dozen request lines),
 * and periodicFlush writes whatever is pending on a short timer, so a quiet service still
 * shows its lines promptly. flushLogger() drains the buffer on shutdown.
 */
const BATCHED = { sync: false, minLength: 4096, periodicFlush: 100 } as const;

function destinationFor(opts: LoggerOptions): DestinationStream {
  const stdout = opts.destination ?? pino.destination({ dest: 1, ...BATCHED });
  if (!opts.file) return stdout;
  mkdirSync(path.dirname(opts.file), { recursive: true });
  const file = pino.destination({ dest: opts.file, ...BATCHED, mkdir: true });
  return pino.multistream([{ stream: stdout }, { stream: file }]);
}

/**
 * The `err` of a log line as pino writes it, except for a Postgres server error (pg's
 * DatabaseError), which keeps its class, SQLSTATE and message only: its other fields, such
 * as `detail` and `where`, can quote the row values a statement was given. The class is
 * checked by name, since this module loads before pg may be required (register.ts).
 */
export function serializeError(err: unknown): unknown {
  if (err instanceof Error && err.constructor.name === 'DatabaseError') {
    const { code } = err as Error & { code?: unknown };
    return { type: 'DatabaseError', code, message: err.message };
  }
  return err instanceof Error ? pino.stdSerializers.err(err) : err;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  // An invalid level is reported by config validation with the variable's name;
  // here it must not crash the process before that message can be written.
  const level = opts.level && levels.has(opts.level) ? opts.level : 'info';
  return pino(
    {
      level,
      base: { service: opts.service ?? 'cloudmart-backend' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not numbers: Loki and Promtail then need no mapping.
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
      serializers: { err: serializeError },
      // trace_id/span_id/trace_flags on every line written inside a traced request.
      mixin: () => currentTraceIds() ?? {},
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          'password',
          'token',
        ],
        censor: '[redacted]',
      },
    },
    destinationFor(opts),
  );
}

/** Drains buffered log lines; called as the process exits. */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // A closed stdout (e.g. a pipe whose reader exited) must not turn shutdown into a crash.
  }
}
