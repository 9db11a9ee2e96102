/**
 * Measured optimisations, kept out of the code a student reads. The textbook path (stock
 * AsyncLocalStorageContextManager, http.createServer(app), pino's documented mixin, a
 * req.log child per request, a label object per observation) is what runs with
 * CLOUDMART_TUNING=false; with the default, true, these replace it (a comma-separated list
 * of their names runs only those, so each can be measured against the rest; switches.ts):
 *
 * - context-manager.ts: binds each HTTP request and response to its context with one
 *   property and a prototype `emit`, instead of 16 closures per request;
 * - express-prototypes.ts: requests and responses are born with Express's prototypes,
 *   so Express does not re-parent them (which V8 handles badly);
 * - request-log.ts: req.log is created on first read, not for every request;
 * - label-cache.ts: one label object per metric series, not one per request;
 * - log-mixin.ts: the trace-id mixin without pino's per-line merge copy.
 *
 * What each buys is measured by the benchmark's `full` against `full-stock` rows
 * (docs/benchmark.md, "What the tuning buys").
 */
export { HttpMessageContextManager } from './context-manager';
export { createExpressPrototypeServer } from './express-prototypes';
export { LabelCache, type HttpLabelValues } from './label-cache';
export { traceIdsMixinWithoutCopy } from './log-mixin';
export { lazyRequestLogger } from './request-log';
