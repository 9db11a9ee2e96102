/**
 * Measured optimisations, kept out of the code a student reads. The textbook path (a req.log
 * child per request) is what runs with CLOUDMART_TUNING=false; with the default,
 * true, these replace it (a comma-separated list of their names runs only those; switches.ts):
 *
 * - request-log.ts: req.log is created on first read, not for every request;
 *
 * Each is measured against the rest in one interleaved run
 * (`npm run bench -- --baseline-env CLOUDMART_TUNING=<the others>`), and one that shows no
 * gain there is deleted: docs/benchmark.md, "What the tuning buys".
 */
export { lazyRequestLogger } from './request-log';
