'use strict';
/**
 * Where the floor's tracers load OpenTelemetry from: the repo's node_modules (OpenTelemetry JS 3,
 * as package.json pins it) or, for the otel2 rows, the node_modules directory FLOOR_OTEL_MODULES
 * names, where `npm run bench:floor` installs bench/floor/otel2 (JS 2), outside the checkout.
 * The app's Express always comes from the repo, so only the tracer differs between the rows.
 */
const path = require('node:path');
const { createRequire } = require('node:module');

const modules = process.env.FLOOR_OTEL_MODULES;
// Resolving as a file of the install's root finds the packages in its node_modules.
const load = modules ? createRequire(path.join(modules, '..', 'package.json')) : require;

/**
 * A BatchSpanProcessor from JS 2's @opentelemetry/sdk-trace-base (exporter, config) or JS 3's
 * @opentelemetry/sdk-trace ({ exporter, ...config }); sdk-trace-base has no 3.x release.
 */
function batchSpanProcessor(exporter, config) {
  let base;
  try {
    base = load('@opentelemetry/sdk-trace-base');
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
  }
  if (base) return new base.BatchSpanProcessor(exporter, config);
  const { BatchSpanProcessor } = load('@opentelemetry/sdk-trace');
  return new BatchSpanProcessor({ exporter, ...config });
}

module.exports = { load, batchSpanProcessor };
