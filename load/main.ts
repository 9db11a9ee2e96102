import { REPLICA_SYNC_MS } from '../src/chaos/faults';
import { parseLoadArgs, USAGE, UsageError, type LoadOptions } from './args';
import { ChaosClient, ChaosClientError } from './chaos-client';
import { runLoad } from './run';
import { scenarios, type Catalog, type Scenario } from './scenarios';
import { formatSummary, summarize, type Summary } from './summary';
import { checkTarget, TargetRefused } from './target';

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
}

/** Exit codes: 0 done, 1 the run failed (or a fault could not be cleared), 2 usage or refused target, 130 interrupted. */
export async function main(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
  let opts: LoadOptions | 'help';
  let baseUrl: string;
  try {
    opts = parseLoadArgs(argv, io.env);
    if (opts === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    baseUrl = checkTarget(opts.url, opts.allowRemote);
  } catch (err) {
    if (err instanceof UsageError || err instanceof TargetRefused) {
      io.stderr.write(`${err.message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
      return 2;
    }
    throw err;
  }
  const scenario = scenarios[opts.scenario];
  if (scenario.fault && !opts.token) {
    io.stderr.write(`the ${scenario.name} scenario switches a fault on: pass --token or set CHAOS_TOKEN\n`);
    return 2;
  }
  try {
    const summary = await runScenario(scenario, opts, baseUrl, io, signal);
    io.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary, scenario));
    if (summary.fault && !summary.fault.cleared) return 1;
    return summary.interrupted ? 130 : 0;
  } catch (err) {
    io.stderr.write(`load ${scenario.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function runScenario(scenario: Scenario, opts: LoadOptions, baseUrl: string, io: Io, signal: AbortSignal): Promise<Summary> {
  const catalog = await readCatalog(baseUrl);
  const durationSeconds = opts.durationSeconds ?? scenario.durationSeconds;
  const rate = opts.rate === 0 ? undefined : (opts.rate ?? scenario.rate);
  const settings = {
    baseUrl,
    scenario,
    catalog,
    connections: opts.connections ?? scenario.connections,
    durationSeconds,
    rate,
    amount: opts.amount,
    progress: io.stderr,
    signal,
  };
  io.stderr.write(`${scenario.name}: ${scenario.description}\n`);
  if (!scenario.fault) {
    const result = await runLoad(settings);
    return summarize(result, scenario, { url: baseUrl, rate, interrupted: signal.aborted, fault: null });
  }

  const chaos = new ChaosClient(baseUrl, opts.token);
  // The ttl is a second line of defence: should this process die without its finally
  // (kill -9, a closed laptop), the service still switches the fault off by itself.
  const requested = { ...scenario.fault, ttlSeconds: Math.ceil(durationSeconds) + 60 };
  const fault: NonNullable<Summary['fault']> = { requested: scenario.fault, switchedOn: false, cleared: false };
  try {
    await chaos.set(requested);
    fault.switchedOn = true;
    io.stderr.write(`fault on: ${JSON.stringify(scenario.fault)} (expires by itself after ${requested.ttlSeconds}s)\n`);
    const result = await runLoad(settings);
    return summarize(result, scenario, { url: baseUrl, rate, interrupted: signal.aborted, fault });
  } finally {
    // Only a fault this run switched on is switched off: when the PUT was refused (chaos off,
    // a wrong token), there is nothing to clear, and the refusal is the one line worth reading.
    // (A PUT that timed out unanswered may still have landed: its ttl switches it off.)
    if (fault.switchedOn) await switchOff(chaos, fault, io);
  }
}

async function switchOff(chaos: ChaosClient, fault: NonNullable<Summary['fault']>, io: Io): Promise<void> {
  try {
    await chaos.clear();
    // A margin over the replicas' sync bound, for a loaded machine.
    fault.cleared = await chaos.confirmCleared(REPLICA_SYNC_MS + 1000);
    io.stderr.write(fault.cleared ? 'fault off\n' : `the fault is still on; clear it with:\n  ${chaos.curlClear()}\n`);
  } catch (err) {
    const why = err instanceof ChaosClientError ? err.message : String(err);
    io.stderr.write(`could not switch the fault off (${why}); clear it with:\n  ${chaos.curlClear()}\n`);
  }
}

/** Real product ids, categories and search words, so the load asks for what exists. */
async function readCatalog(baseUrl: string): Promise<Catalog> {
  let body: { data?: { id: number; category: string; name: string }[] };
  try {
    const res = await fetch(`${baseUrl}/api/products?limit=100`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET /api/products answered ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? ` (${((err as Error).cause as Error).message})` : '';
    throw new Error(`cannot read the catalog from ${baseUrl}: ${(err as Error).message}${cause}. Is the service running?`, { cause: err });
  }
  const products = body.data ?? [];
  if (products.length === 0) throw new Error(`the catalog at ${baseUrl} is empty`);
  const words = new Set<string>();
  for (const p of products) for (const w of p.name.toLowerCase().split(/[^a-z]+/)) if (w.length >= 4) words.add(w);
  return {
    ids: products.map((p) => p.id),
    categories: [...new Set(products.map((p) => p.category))],
    words: [...words],
  };
}
