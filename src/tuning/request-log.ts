import { IncomingMessage } from 'node:http';
import type { Logger } from '../telemetry/logger';

const kBase = Symbol('cloudmart.requestLogger.base');
const kChild = Symbol('cloudmart.requestLogger.child');

interface LoggedRequest extends IncomingMessage {
  [kBase]?: Logger;
  [kChild]?: Logger;
}

let installed = false;

/**
 * Gives the request a logger bound to its req_id that is created on first read of
 * req.log, not per request: most requests log nothing but their request line, and a pino
 * child per request was the largest allocation on the hot path (docs/benchmark.md). An
 * accessor on IncomingMessage.prototype costs nothing until read; assigning req.log works.
 */
export function lazyRequestLogger(req: IncomingMessage, logger: Logger): void {
  if (!installed) installAccessor();
  (req as LoggedRequest)[kBase] = logger;
}

function installAccessor(): void {
  installed = true;
  if (Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'log')) return;
  Object.defineProperty(IncomingMessage.prototype, 'log', {
    configurable: true,
    get(this: LoggedRequest): Logger | undefined {
      const child = this[kChild];
      if (child) return child;
      const base = this[kBase];
      if (!base) return undefined;
      return (this[kChild] = base.child({ req_id: this.id }));
    },
    set(this: LoggedRequest, value: Logger) {
      this[kChild] = value;
    },
  });
}
