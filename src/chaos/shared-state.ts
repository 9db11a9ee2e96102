import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../telemetry/logger';
import type { ChaosControl } from './control';
import { activeFaults, MAX_TTL_SECONDS, NO_FAULTS, REPLICA_SYNC_MS, type ChaosFaults } from './faults';
import { newChange, type ChaosChange, type ChaosSnapshot, type ChaosState } from './state';
import { decodeChange, encodeChange } from './stored-change';

export interface SharedStateOptions {
  url: string;
  /** REDIS_KEY_PREFIX: replicas of one service share it, test runs and other services do not. */
  keyPrefix: string;
  commandTimeoutMs: number;
  logger: Logger;
}

/**
 * A cleared change stays this long, so a replica that was cut off from Redis when it
 * made an older change can tell that a newer DELETE happened meanwhile.
 */
const CLEARED_KEEP_MS = MAX_TTL_SECONDS * 1000;

/**
 * Writes a change and announces it, in one step so no replica reads one without the
 * other. KEYS[1] the state key; ARGV the change's JSON, its changedAt, how long Redis
 * keeps it in ms (0 = until replaced), the channel, and '1' to write only over an
 * older change (a change made while Redis was unreachable must not undo a newer one).
 */
const WRITE_SCRIPT = `
if ARGV[5] == '1' then
  local stored = redis.call('GET', KEYS[1])
  if stored then
    local ok, change = pcall(cjson.decode, stored)
    if ok and type(change) == 'table' and type(change.changedAt) == 'string' and change.changedAt >= ARGV[2] then
      return 0
    end
  end
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[2])
return 1
`;

const anyActive = (faults: ChaosFaults) => Object.values(activeFaults(faults)).some(Boolean);

/**
 * The faults every replica shares, kept in Redis under the service's key prefix. Each
 * replica applies them to its own ChaosState, which the request path reads, so a request
 * never waits on Redis: a change is written to Redis first, then announced on a pub/sub
 * channel, and every replica re-reads the stored change when told and every REPLICA_SYNC_MS.
 * While Redis is unreachable the replica keeps the last faults it knew; a change made
 * through it meanwhile applies to it alone and is written once Redis answers, unless
 * a newer change is there by then.
 */
export class SharedChaosState implements ChaosControl {
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly key: string;
  private readonly channel: string;
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;
  /** A change made through this replica that Redis has not stored yet. */
  private unshared: ChaosChange | undefined;
  private unreachable = false;
  private closed = false;
  private markRead: () => void = () => undefined;
  private readonly firstRead = new Promise<true>((resolve) => {
    this.markRead = () => resolve(true);
  });

  constructor(
    private readonly state: ChaosState,
    opts: SharedStateOptions,
  ) {
    this.key = `${opts.keyPrefix}chaos`;
    this.channel = `${opts.keyPrefix}chaos:changed`;
    this.logger = opts.logger;
    const connection: RedisOptions = {
      connectTimeout: Math.max(1000, opts.commandTimeoutMs * 5),
      // Reconnect forever, backing off to once every 2 s, as the cache does.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    };
    // Like the cache: commands fail at once while Redis is away instead of queueing, so an admin call never hangs.
    this.client = new Redis(opts.url, { ...connection, enableOfflineQueue: false, commandTimeout: opts.commandTimeoutMs, maxRetriesPerRequest: 0 });
    // The subscription waits for Redis however long it takes; ioredis renews it after each reconnect.
    this.subscriber = new Redis(opts.url, { ...connection, maxRetriesPerRequest: null });
    // sync() reports an outage once; without listeners ioredis would print every failed reconnect.
    this.client.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    // Announcements sent while a connection was down are lost: read the stored change on each (re)connect.
    this.client.on('ready', () => void this.sync());
    this.subscriber.on('ready', () => void this.sync());
    this.subscriber.on('message', () => void this.sync());
    this.subscriber.subscribe(this.channel).catch(() => undefined);
    this.timer = setInterval(() => void this.sync(), REPLICA_SYNC_MS).unref();
  }

  snapshot(): ChaosSnapshot {
    return this.state.snapshot();
  }

  set(faults: ChaosFaults): Promise<ChaosSnapshot> {
    return this.change(newChange(faults, 'set'));
  }

  clear(): Promise<ChaosSnapshot> {
    return this.change(newChange(NO_FAULTS, 'cleared'));
  }

  async ready(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.firstRead, sleep(timeoutMs, false, { ref: false })]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // The subscriber has nothing to flush, and a quit queued while it reconnects would wait for Redis.
    this.subscriber.disconnect();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /** Stores the change, then applies it here; the other replicas apply it when announced. */
  private async change(change: ChaosChange): Promise<ChaosSnapshot> {
    try {
      await this.write(change, false);
      this.unshared = undefined;
      this.reachable();
    } catch (err) {
      this.unshared = change;
      this.unreachable = true;
      this.logger.warn(
        { err: (err as Error).message },
        `chaos faults ${change.reason} on this replica only: redis is unreachable; the change reaches the others once it answers`,
      );
    }
    return this.state.apply(change);
  }

  /** Resolves true when written, false when `onlyIfNewer` found a newer change stored. */
  private async write(change: ChaosChange, onlyIfNewer: boolean): Promise<boolean> {
    const keepMs = change.expiresAt ? Math.max(1, change.expiresAt.getTime() - Date.now()) : anyActive(change.faults) ? 0 : CLEARED_KEEP_MS;
    const args = [encodeChange(change), change.changedAt.toISOString(), String(keepMs), this.channel, onlyIfNewer ? '1' : '0'];
    return (await this.client.eval(WRITE_SCRIPT, 1, this.key, ...args)) === 1;
  }

  /**
   * Brings this replica in line with Redis: writes its unshared change, or adopts the
   * stored one. Every read and write goes through one connection, whose answers arrive
   * in the order asked, so a read sent before a write can never be applied after it.
   */
  private async sync(): Promise<void> {
    try {
      const unshared = this.unshared;
      if (unshared) {
        // A fault that ran out meanwhile is written as what it became: cleared, when it expired.
        const { expiresAt } = unshared;
        const written = await this.write(expiresAt && expiresAt.getTime() <= Date.now() ? newChange(NO_FAULTS, 'cleared', expiresAt) : unshared, true);
        if (this.unshared === unshared) this.unshared = undefined;
        if (!written) this.adopt(await this.client.get(this.key));
      } else {
        this.adopt(await this.client.get(this.key));
      }
      this.reachable();
      this.markRead();
    } catch (err) {
      // After close() the connections are gone on purpose.
      if (this.closed || this.unreachable) return;
      this.unreachable = true;
      this.logger.warn({ err: (err as Error).message }, 'chaos: cannot read the shared faults from redis; keeping the last known faults until it answers');
    }
  }

  private adopt(stored: string | null): void {
    // A change made here while Redis was away stands until it is written.
    if (this.unshared) return;
    let change = stored === null ? undefined : decodeChange(stored);
    if (stored !== null && change === undefined) throw new Error(`${this.key} does not hold chaos faults this version can read`);
    // Redis's clock may drop the key a little later than ours expires it.
    if (change?.expiresAt && change.expiresAt.getTime() <= Date.now()) change = undefined;
    const current = this.state.change;
    if (change === undefined) {
      // Nothing stored: never set, cleared long ago, expired, or Redis lost it. Either way no fault is on.
      if (current && anyActive(current.faults)) {
        this.state.apply({ faults: NO_FAULTS, reason: current.expiresAt ? 'expired' : 'cleared', changedAt: new Date() });
      }
      return;
    }
    if (current === undefined || encodeChange(current) !== encodeChange(change)) this.state.apply(change);
  }

  private reachable(): void {
    if (!this.unreachable) return;
    this.unreachable = false;
    this.logger.info('chaos: redis answers again; this replica shares its faults again');
  }
}
