/**
 * Embedded Postgres for a machine with nothing installed: PGlite (Postgres compiled
 * to WebAssembly) behind pglite-socket, which speaks the Postgres wire protocol on a
 * loopback port. The service then reaches it through the same pg Pool, the same SQL
 * and the same pg instrumentation as a real server.
 */
export interface EmbeddedPostgres {
  connectionString: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  // getServerConn() answers "host:port" with the port the OS assigned.
  const connectionString = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  return {
    connectionString,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
