import net from 'node:net';

export type ProxyMode = 'pass' | 'reset' | 'blackhole';

/**
 * A loopback TCP proxy in front of a real server, so a test can make Postgres or
 * Redis vanish (reset every connection) or hang (swallow bytes), then come back,
 * without touching the shared server itself.
 */
export class TcpProxy {
  private server = net.createServer((client) => this.accept(client));
  private readonly sockets = new Set<net.Socket>();
  mode: ProxyMode = 'pass';
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'reset') return void client.resetAndDestroy();
    this.track(client);
    if (this.mode === 'blackhole') return; // accepted, never answered
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('data', (d) => {
      if (this.mode === 'pass') upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (this.mode === 'pass') client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  }

  /** Switches mode; 'reset' also kills every open connection, like a server going down. */
  set(mode: ProxyMode): void {
    this.mode = mode;
    if (mode === 'reset') {
      for (const s of this.sockets) s.resetAndDestroy();
      this.sockets.clear();
    }
  }

  async stop(): Promise<void> {
    this.set('reset');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
