/**
 * Measured optimisations, kept out of the code a student reads. The textbook path (a req.log
 * child per request) is what runs with CLOUDMART_TUNING=false; with the default, true, these
 * replace it:
 *
 * - request-log.ts: req.log is created on first read, not for every request.
 * - server-span.ts: the server span made without the http instrumentation's per-request
 *   emitter binding (telemetry/otel.ts installs it).
 * - malloc.ts: glibc returns freed blocks of 32 kB and more to the system (its tunable, which
 *   relaunch.ts, loaded first by `npm start`, adds to the environment by executing the process again).
 *
 * Each is measured against the build without it in one interleaved run
 * (`npm run bench -- --baseline-env CLOUDMART_TUNING=false`), and one that shows no gain
 * there is deleted: docs/benchmark.md, "What the tuning buys".
 */
export { lazyRequestLogger } from './request-log';
export { returnsLargeAllocations } from './malloc';
