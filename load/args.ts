import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseDuration } from '../scripts/lib/duration';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from './scenarios';

export const MAX_DURATION_SECONDS = 600;
export const MAX_AMOUNT = 1_000_000;

export const USAGE = `Usage: npm run load -- <scenario> [options]

Scenarios: ${SCENARIO_NAMES.join(', ')}

Options:
  --url URL          target (default http://localhost:3000); loopback only unless --allow-remote
  --duration T       how long: 45s, 2m, 90 (seconds); default per scenario, at most ${MAX_DURATION_SECONDS}s
  --connections N    concurrent connections (default per scenario)
  --rate N           requests per second over all connections (default per scenario; 0 = as fast as answered)
  --amount N         stop after N requests (default and maximum ${MAX_AMOUNT.toLocaleString('en')})
  --token T          CHAOS_TOKEN for errors/slow (default: $CHAOS_TOKEN)
  --allow-remote     allow a non-loopback target; load-test only what you own
  --json             print the summary as JSON on stdout
  -h, --help         this text`;

export interface LoadOptions {
  scenario: ScenarioName;
  url: string;
  durationSeconds?: number;
  connections?: number;
  /** 0 = unpaced. */
  rate?: number;
  amount: number;
  token?: string;
  allowRemote: boolean;
  json: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const positiveInt = (name: string, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be at least 1`)
    .max(max, `${name} must be at most ${max}`);

const schema = z.object({
  duration: z
    .string()
    .transform((s, ctx) => {
      // A bare number is seconds, as the usage and docs/load-and-chaos.md say.
      const ms = parseDuration(s, 's');
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `--duration: not a duration: ${s} (use 45s, 2m or 90)` });
        return z.NEVER;
      }
      return ms / 1000;
    })
    .pipe(z.number().min(1, '--duration must be at least 1s').max(MAX_DURATION_SECONDS, `--duration must be at most ${MAX_DURATION_SECONDS}s`))
    .optional(),
  connections: positiveInt('--connections', 1000).optional(),
  rate: z.coerce
    .number({ error: '--rate must be a number' })
    .int('--rate must be a whole number')
    .min(0)
    .max(100_000, '--rate must be at most 100000')
    .optional(),
  amount: positiveInt('--amount', MAX_AMOUNT).default(MAX_AMOUNT),
});

export function parseLoadArgs(argv: string[], env: Record<string, string | undefined>): LoadOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://localhost:3000' },
        duration: { type: 'string' },
        connections: { type: 'string' },
        rate: { type: 'string' },
        amount: { type: 'string' },
        token: { type: 'string' },
        'allow-remote': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [scenario, ...extra] = positionals;
  if (!scenario) throw new UsageError('name a scenario');
  if (!isScenarioName(scenario)) throw new UsageError(`unknown scenario "${scenario}"`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const numbers = schema.safeParse({ duration: values.duration, connections: values.connections, rate: values.rate, amount: values.amount });
  if (!numbers.success) throw new UsageError(numbers.error.issues.map((i) => i.message).join('; '));
  return {
    scenario,
    url: values.url,
    durationSeconds: numbers.data.duration,
    connections: numbers.data.connections,
    rate: numbers.data.rate,
    amount: numbers.data.amount,
    token: values.token ?? (env.CHAOS_TOKEN || undefined),
    allowRemote: values['allow-remote'],
    json: values.json,
  };
}
