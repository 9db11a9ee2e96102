/**
 * The process: reads config, starts the real dependencies, listens, and shuts down
 * in order (stop accepting, finish in-flight requests, close pool and Redis, flush
 * telemetry). Started as `node --require ./dist/telemetry/register.js dist/server.js`.
 */
import type { AddressInfo } from 'node:net';
import { notificationLogRoutes } from './alerting/notification-log';
import { createApp } from './app';
import { chaosModule } from './chaos';
import { ConfigError, loadConfig, type Config } from './config';
import { openCache, openDatabase } from './dependencies';
import { doraModule } from './dora';
import { createHttpServer } from './http/http-server';
import { shutdownTelemetry } from './telemetry/lifecycle';
import { createLogger, flushLogger } from './telemetry/logger';
import { createMetrics } from './telemetry/metrics';

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
  const logger = createLogger({ level: config.logLevel, file: config.logFile, service: config.service.name });
  logger.info({ version: config.service.version, commit: config.service.commitSha, environment: config.service.environment }, 'starting cloudmart');

  const { db, embedded } = await openDatabase(config, logger);
  const metrics = createMetrics();
  // A no-op unless CHAOS_ENABLED=true.
  const chaos = chaosModule(config, metrics, logger);
  chaos.hookDatabase(db);
  const cache = chaos.wrapCache(openCache(config, logger));
  // Give Redis a moment so the first requests are cached; never wait on it for long.
  if (!(await cache.ready(2000))) logger.warn('redis not reachable yet; starting without the cache');
  const dora = doraModule({ config, db, logger, metrics });
  // After the migrations (openDatabase ran them); never fails the start.
  await dora.recordOwnDeployment();
  let shuttingDown = false;
  const { app } = createApp({
    config,
    db,
    cache,
    logger,
    metrics,
    before: [...chaos.before],
    routers: [...chaos.routers, dora.router, notificationLogRoutes(logger, metrics, config.webhookToken)],
    isShuttingDown: () => shuttingDown,
  });

  // Not app.listen(): requests are born with Express's prototypes (see http-server.ts).
  const server = createHttpServer(app).listen(config.port, config.host);
  server.requestTimeout = config.requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  logger.info({ port: address.port, host: address.address }, `listening on http://localhost:${address.port}`);

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // close() waits for in-flight requests; idle keep-alive sockets are closed now
    // so they do not hold the server open.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A keep-alive connection whose request was in flight goes idle once answered; without
    // this sweep it would hold close() until the keep-alive timeout (about 4 s more).
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    await closed;
    clearInterval(sweep);
    clearTimeout(deadline);
    await Promise.allSettled([db.close(), cache.close()]);
    await embedded?.stop();
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
