/**
 * The process: reads config, starts the real dependencies, listens, and shuts down
 * in order (readiness 503, stop accepting, answer what arrived, close pool and Redis,
 * flush telemetry). Started as `node --require ./dist/tuning/relaunch.js --require
 * ./dist/telemetry/register.js dist/server.js` (npm start; relaunch.ts: glibc's malloc tunable).
 */
// First: on too old a Node.js, stop with one line before any dependency loads.
import './require-node';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, type Config } from './config';
import http from 'node:http';
import { answerClientErrors } from './http/client-error';
import { drainable } from './http/drain';
import { serverOptions } from './http/server-options';
import { createService } from './service';
import { shutdownTelemetry } from './telemetry/lifecycle';
import { flushLogger } from './telemetry/logger';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const service = await createService(config);
  const { app, logger } = service;

  const server = http.createServer(serverOptions(config.requestTimeoutMs), app).listen(config.port, config.host);
  const drain = drainable(server);
  answerClientErrors(server, (err, status) => logger.debug({ err, status }, 'refused a request the HTTP parser could not read'));
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  logger.info({ port: address.port, host: address.address }, `listening on http://localhost:${address.port}`);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    service.beginShutdown();
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // Readiness already answers 503 (beginShutdown); now stop accepting and answer what
    // arrived, so a rolling restart behind nginx drops nothing a replica accepted (src/http/drain.ts).
    await drain.drain();
    clearTimeout(deadline);
    await service.close();
    await shutdownTelemetry();
    logger.info('shutdown complete');
    flushLogger(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`cloudmart failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
