import net from 'node:net';
import { setImmediate as afterPoll } from 'node:timers/promises';
import type { Server, ServerResponse } from 'node:http';

/**
 * How long a connection that is idle when the drain begins may take to send a request.
 * Bytes a client (nginx) wrote before SIGTERM are in the kernel already; Node reads them
 * within a turn or two of the event loop, so a second is ample even on a loaded machine.
 */
export const REQUEST_GRACE_MS = 1000;

/** How often idle connections are closed once the grace is over. */
const SWEEP_MS = 100;

export interface Drain {
  /**
   * Stops accepting, answers every request that reached the server (with `Connection:
   * close`), then closes idle connections, and resolves when no connection is left.
   */
  drain(): Promise<void>;
}

/**
 * Why not `server.close()`: since Node 19 it first calls closeIdleConnections(), and to Node
 * a connection whose first request is not parsed yet is idle. A connection accepted just
 * before SIGTERM, with nginx's request already written to it, was then reset unanswered:
 * nginx retries that on another replica only for reads and keyed orders, so an order
 * without an Idempotency-Key got a 502. Here idle connections get a grace to send what
 * they sent, and every answer during the drain closes its connection.
 */
export function drainable(server: Server, requestGraceMs = REQUEST_GRACE_MS): Drain {
  const inFlight = new Set<ServerResponse>();
  let draining = false;

  // Prepended, so it runs before the app writes anything.
  server.prependListener('request', (_req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });

  return {
    async drain() {
      draining = true;
      // Closing a listening socket resets the connections the kernel has queued on it but
      // Node has not accepted yet (a listening socket has no two-stage close): let one more
      // poll phase accept what is queued, so the window for a reset is a poll's length. The
      // first immediate runs in this loop turn's check phase, the second after the next poll.
      await afterPoll();
      await afterPoll();
      // net.Server's close only stops listening, and calls back once every connection has closed.
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      // After the grace, a connection still idle never sent a request (a preconnect, an idle
      // keep-alive), or its answer had sent its headers before the drain and so kept it
      // open: the sweep closes each as it goes idle.
      let sweep: NodeJS.Timeout | undefined;
      const grace = setTimeout(() => {
        server.closeIdleConnections();
        sweep = setInterval(() => server.closeIdleConnections(), SWEEP_MS);
      }, requestGraceMs);
      await closed.finally(() => {
        clearTimeout(grace);
        clearInterval(sweep);
      });
    },
  };
}
