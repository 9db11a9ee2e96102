/**
 * Tells "the database is unreachable or too slow" (answer 503, try again later) and
 * "the database refused a value the client sent" (answer 400) from everything else
 * (a bug, answer 500).
 */
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN']);

// SQLSTATE: 08xxx connection exceptions; admin/crash shutdown, cannot connect now;
// too many connections; query cancelled (our statement_timeout).
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

const unavailableMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
];

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (networkCodes.has(code) || unavailableStates.has(code) || code.startsWith('08'))) {
    return true;
  }
  if (err instanceof AggregateError) return err.errors.some(isDatabaseUnavailable);
  return unavailableMessages.some((m) => err.message.includes(m));
}

/**
 * SQLSTATE class 22, data exceptions (a number out of range, text with a NUL, a malformed
 * date): a value was wrong for its column or cast, and values come from the client.
 */
export function isInvalidData(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}
