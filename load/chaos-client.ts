import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosFaultsInput } from '../src/chaos/faults';
import type { ChaosSnapshot } from '../src/chaos/state';

export class ChaosClientError extends Error {
  override name = 'ChaosClientError';
}

const hints: Record<number, string> = {
  401: 'no token: pass --token or set CHAOS_TOKEN',
  403: "the token was refused: it must equal the service's CHAOS_TOKEN",
  404: 'fault injection is not enabled on the service (start it with CHAOS_ENABLED=true and a CHAOS_TOKEN)',
};

/** Talks to PUT/GET/DELETE /api/admin/chaos of one service. */
export class ChaosClient {
  private readonly endpoint: string;

  constructor(
    baseUrl: string,
    private readonly token: string | undefined,
  ) {
    this.endpoint = `${baseUrl}/api/admin/chaos`;
  }

  set(faults: ChaosFaultsInput): Promise<ChaosSnapshot> {
    return this.call('PUT', faults);
  }

  get(): Promise<ChaosSnapshot> {
    return this.call('GET');
  }

  clear(): Promise<ChaosSnapshot> {
    return this.call('DELETE');
  }

  /**
   * True once a GET shows no fault on. Through a load balancer the GET may reach another
   * replica than the DELETE did, one that has not heard of it yet, so it asks again for
   * up to withinMs (the time replicas take to share a change).
   */
  async confirmCleared(withinMs: number): Promise<boolean> {
    const end = Date.now() + withinMs;
    for (;;) {
      if ((await this.get()).active.length === 0) return true;
      if (Date.now() >= end) return false;
      await sleep(100);
    }
  }

  /** The command that clears the faults by hand, for when this process cannot. */
  curlClear(): string {
    return `curl -X DELETE -H "Authorization: Bearer $CHAOS_TOKEN" ${this.endpoint}`;
  }

  private async call(method: 'GET' | 'PUT' | 'DELETE', body?: object): Promise<ChaosSnapshot> {
    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method,
        headers: {
          ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new ChaosClientError(
        `${method} ${this.endpoint} failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      const hint = hints[res.status] ?? text.slice(0, 300);
      throw new ChaosClientError(`${method} ${this.endpoint} answered ${res.status}: ${hint}`);
    }
    return JSON.parse(text) as ChaosSnapshot;
  }
}
