/**
 * `npm run dora:deploy [-- --version 1.4.0 --service cloudmart-backend --url http://host:3000]`:
 * tells CloudMart's DORA endpoint that the local git checkout's HEAD has just been
 * deployed, for a CI pipeline's last step. Exits non-zero, saying why, when it could not.
 */
// First: on too old a Node.js, stop with one line before any dependency loads.
import '../require-node';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';

const USAGE = `usage: npm run dora:deploy -- [--version <version>] [--service <name>] [--url <base url>]
  --version  defaults to SERVICE_VERSION, then package.json's version
  --service  defaults to the service's name (OTEL_SERVICE_NAME, SERVICE_NAME, ...; see the README)
  --url      defaults to CLOUDMART_URL, then http://localhost:3000
WEBHOOK_TOKEN, when set, is sent as the bearer token the service asks for.`;

class UsageError extends Error {}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`git ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''} (run this inside the git checkout that was deployed)`, { cause: err });
  }
}

function nonEmpty(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v.trim() !== '')?.trim();
}

async function main(): Promise<void> {
  let values: { version?: string; service?: string; url?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { version: { type: 'string' }, service: { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const env = process.env;
  // The service's own identity (src/config.ts), so the record matches what the service reports.
  const identity = loadConfig(env).service;
  const body = {
    service: nonEmpty(values.service) ?? identity.name,
    version: nonEmpty(values.version) ?? identity.version,
    commitSha: git(['rev-parse', 'HEAD']),
    commitTime: git(['log', '-1', '--format=%cI']),
    deployedAt: new Date().toISOString(),
  };
  const base = nonEmpty(values.url, env.CLOUDMART_URL) ?? 'http://localhost:3000';
  let endpoint: URL;
  try {
    endpoint = new URL('/api/dora/deployments', base);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }

  const token = nonEmpty(env.WEBHOOK_TOKEN);
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err instanceof Error ? err.message : String(err));
    throw new Error(`could not reach ${endpoint.href}: ${cause}`, { cause: err });
  }
  const text = await res.text();
  const what = `${body.service}@${body.version} (commit ${body.commitSha.slice(0, 12)}, committed ${body.commitTime})`;
  if (res.status === 201) {
    process.stdout.write(`recorded deployment ${what}\n`);
  } else if (res.status === 200) {
    process.stdout.write(`already recorded: ${what}; a version counts once, so a new deployment needs a new --version\n`);
  } else {
    throw new Error(`${endpoint.href} answered ${res.status}: ${text.slice(0, 1000)}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`dora:deploy failed: ${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exitCode = 1;
});
