/**
 * The docs name only things that exist. README.md and docs/*.md are read the way a
 * student reads them: every npm script, repo file, environment variable, host port,
 * Compose service, profile and relative link they mention is checked against
 * package.json, the tree, the code and the compose files; the options given to
 * `npm run load` and `npm run doctor` are parsed by those tools' own parsers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseLoadArgs } from '../../load/args';
import { scenarios } from '../../load/scenarios';
import { deploymentRequest } from '../../src/dora/schemas';
import { DOCTOR_ENV, ENDPOINTS, parseDoctorArgs } from '../../scripts/doctor/options';
import { JOB_SERVICE } from '../../scripts/lib/stack-config';
import { MINIMUM_NODE } from '../../src/require-node';
import { composeFiles, composeServices, publishedPorts, repoRoot } from '../helpers/stack';
import { pinnedVersions } from '../helpers/tools';

// ------------------------------------------------------------ the documents

const DOCS = [
  'README.md',
  ...readdirSync(path.join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Doc {
  file: string;
  text: string;
  /** Fenced blocks, language and body; mermaid diagrams are pictures, not commands. */
  blocks: { lang: string; body: string }[];
  inline: string[];
  /** The text outside code. */
  prose: string;
}

/** A document, or `text` as a part of it. */
function readDoc(file: string, text = readFileSync(path.join(repoRoot, file), 'utf8')): Doc {
  const blocks: Doc['blocks'] = [];
  const withoutBlocks = text.replace(/^(```+|~~~+)([\w-]*)[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm, (_m, _fence: string, lang: string, body: string) => {
    blocks.push({ lang, body });
    return '\n';
  });
  const inline: string[] = [];
  const prose = withoutBlocks.replace(/(`+)([^`][\s\S]*?)\1/g, (_m, _ticks: string, body: string) => {
    inline.push(body.trim());
    return ' ';
  });
  return { file, text, blocks: blocks.filter((b) => b.lang !== 'mermaid'), inline, prose };
}

const docs = DOCS.map((f) => readDoc(f));
/** Every piece of code a doc shows: fenced lines and inline spans. */
const codeOf = (d: Doc) => [...d.blocks.map((b) => b.body), ...d.inline];

/** Shell lines of fenced blocks and inline spans, backslash continuations joined. */
function shellLines(d: Doc): string[] {
  return codeOf(d)
    .join('\n')
    .replace(/\\\n\s*/g, ' ')
    .split('\n');
}

function failures(check: (d: Doc) => string[]): string[] {
  return docs.flatMap((d) => check(d).map((f) => `${d.file}: ${f}`));
}

// ------------------------------------------------------------ npm scripts

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

test('every `npm run <script>` names a script of package.json', () => {
  const bad = failures((d) =>
    [
      ...codeOf(d)
        .join('\n')
        .matchAll(/\bnpm run(?:-script)? ([\w:.-]+)/g),
    ]
      .map((m) => m[1] ?? '')
      .filter((s) => !(s in pkg.scripts))
      .map((s) => `npm run ${s}`),
  );
  assert.deepEqual(bad, []);
});

/** Words of a shell command after `marker --`, up to a comment or the next command. */
function argsAfter(line: string, marker: string): string[] | undefined {
  const at = line.indexOf(marker);
  if (at < 0) return undefined;
  const rest = line.slice(at + marker.length).split(/\s(?:#|&&|\|\|?|;)\s?|\s+#/)[0] ?? '';
  const words = rest.trim().split(/\s+/).filter(Boolean);
  if (words[0] !== '--') return undefined;
  return words.slice(1).map((w) => w.replace(/^(['"])(.*)\1$/, '$2'));
}

test('the options shown for npm run load and npm run doctor are accepted by their parsers', () => {
  let seen = 0;
  const bad = failures((d) =>
    shellLines(d).flatMap((line) => {
      const out: string[] = [];
      const load = argsAfter(line, 'npm run load');
      if (load && !load.includes('--help')) {
        seen++;
        try {
          parseLoadArgs(load, {});
        } catch (err) {
          out.push(`npm run load -- ${load.join(' ')}: ${(err as Error).message}`);
        }
      }
      const doctor = argsAfter(line, 'npm run doctor');
      if (doctor) {
        seen++;
        try {
          parseDoctorArgs(doctor, {});
        } catch (err) {
          out.push(`npm run doctor -- ${doctor.join(' ')}: ${(err as Error).message}`);
        }
      }
      return out;
    }),
  );
  assert.deepEqual(bad, []);
  assert.ok(seen >= 10, `only ${seen} npm run load/doctor commands found: is the parser still finding them?`);
});

// -------------------------------------------------------------- repo files

const TOP = ['compose', 'docker', 'src', 'test', 'testkit', 'load', 'scripts', 'docs', 'bench', 'migrations', 'tools', '.ci', 'dist'];
const ROOT_FILES = ['README.md', 'Dockerfile', 'package.json', 'package-lock.json', 'tsconfig.json', 'eslint.config.mjs'];
/** Created by the student or by a tool, never committed. */
const CREATED_AT_RUN_TIME = [
  'compose/.env', // copied from compose/.env.example by the student
  'bench/results/latest.json', // written by npm run bench
];

function globExists(rel: string): boolean {
  const parts = rel.replace(/\/$/, '').split('/');
  const walk = (dir: string, i: number): boolean => {
    if (i === parts.length) return true;
    const part = parts[i] ?? '';
    if (!part.includes('*')) return existsSync(path.join(dir, part)) && walk(path.join(dir, part), i + 1);
    const re = new RegExp(`^${part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return false;
    }
    return entries.some((e) => re.test(e) && walk(path.join(dir, e), i + 1));
  };
  return walk(repoRoot, 0);
}

function fileExists(rel: string): boolean {
  if (CREATED_AT_RUN_TIME.includes(rel)) return true;
  // dist/ is the build of src/: dist/x/y.js exists once src/x/y.ts does.
  if (rel.startsWith('dist/')) {
    const src = rel.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
    return rel === 'dist/' || globExists(src);
  }
  return globExists(rel);
}

test('every repo path in code names a file or directory that exists', () => {
  const pathRe = new RegExp(
    `(?:^|[\\s'"(=\`])(?:\\./)?((?:${TOP.map((t) => t.replace('.', '\\.')).join('|')})/[\\w./*@-]*|${ROOT_FILES.map((f) => f.replace('.', '\\.')).join('|')})`,
    'g',
  );
  let seen = 0;
  const bad = failures((d) =>
    codeOf(d).flatMap((code) =>
      [...code.matchAll(pathRe)]
        .map((m) => (m[1] ?? '').replace(/[.,:;]+$/, ''))
        .filter((p) => {
          seen++;
          return !fileExists(p);
        }),
    ),
  );
  assert.deepEqual(bad, []);
  assert.ok(seen >= 40, `only ${seen} paths found`);
});

test('every relative link points at a file that exists', () => {
  const bad = failures((d) =>
    [...d.prose.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] ?? '')
      .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith('#'))
      .filter((href) => !existsSync(path.join(repoRoot, path.dirname(d.file), href.split('#')[0] ?? ''))),
  );
  assert.deepEqual(bad, []);
});

// ------------------------------------------------------- environment variables

function walkFiles(dir: string, keep: (f: string) => boolean, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) walkFiles(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** Variables the project itself reads or sets: its code, its compose files, its env example, its image. */
function projectVariables(): Set<string> {
  const names = new Set<string>([...Object.values(ENDPOINTS).map((e) => e.env), ...DOCTOR_ENV]);
  const add = (re: RegExp, text: string) => {
    for (const m of text.matchAll(re)) if (m[1]) names.add(m[1]);
  };
  const code = ['src', 'load', 'scripts', 'bench', 'test/helpers', 'testkit'].flatMap((d) =>
    walkFiles(path.join(repoRoot, d), (f) => /\.(ts|js|cjs)$/.test(f)),
  );
  for (const f of code) {
    const text = readFileSync(f, 'utf8');
    add(/\benv\.([A-Z][A-Z0-9_]+)/g, text);
    add(/\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g, text);
  }
  // The config schema: one key per variable.
  add(/^\s+([A-Z][A-Z0-9_]+):/gm, readFileSync(path.join(repoRoot, 'src', 'config.ts'), 'utf8'));
  for (const { doc, file } of composeFiles()) {
    add(/\$\{([A-Z][A-Z0-9_]*)/g, readFileSync(path.join(repoRoot, file), 'utf8'));
    for (const svc of Object.values<{ environment?: Record<string, unknown> | string[] }>(doc.services ?? {})) {
      const env = svc.environment ?? {};
      for (const k of Array.isArray(env) ? env.map((e) => e.split('=')[0] ?? '') : Object.keys(env)) names.add(k);
    }
  }
  add(/^#?\s*([A-Z][A-Z0-9_]+)=/gm, readFileSync(path.join(repoRoot, 'compose', '.env.example'), 'utf8'));
  // The collector's configs read theirs as ${env:NAME}.
  for (const f of walkFiles(path.join(repoRoot, 'docker', 'otel-collector'), (x) => /\.ya?ml$/.test(x)))
    add(/\$\{env:([A-Z][A-Z0-9_]+)/g, readFileSync(f, 'utf8'));
  add(/^([A-Z][A-Z0-9_]+)=/gm, readFileSync(path.join(repoRoot, 'tools', 'versions.env'), 'utf8'));
  add(/^(?:ARG|ENV)\s+([A-Z][A-Z0-9_]+)/gm, readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  for (const f of walkFiles(path.join(repoRoot, 'scripts'), (x) => x.endsWith('.sh'))) add(/\$\{?([A-Z][A-Z0-9_]+)/g, readFileSync(f, 'utf8'));
  return names;
}

/** OTEL_* and ELASTIC_APM_* variables are read by the installed SDK and agent, so they must appear in their code. */
function sdkVariables(): Set<string> {
  const names = new Set<string>();
  // OpenTelemetry JS 3 reads the environment in @opentelemetry/configuration (dist/, .cjs),
  // which auto-instrumentations-node carries in its own node_modules.
  const otel = path.join(repoRoot, 'node_modules', '@opentelemetry');
  const nested = path.join(otel, 'auto-instrumentations-node', 'node_modules', '@opentelemetry');
  const dirs = [
    ...[otel, nested].flatMap((root) =>
      existsSync(root) ? readdirSync(root).flatMap((p) => [path.join(root, p, 'build', 'src'), path.join(root, p, 'dist')]) : [],
    ),
    path.join(repoRoot, 'node_modules', 'elastic-apm-node', 'lib'),
  ];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of walkFiles(dir, (x) => x.endsWith('.js') || x.endsWith('.cjs'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\b((?:OTEL|ELASTIC_APM)_[A-Z0-9_]+)/g)) if (m[1]) names.add(m[1]);
    }
  }
  return names;
}

/** Uppercase identifiers and string constants of src/ (error codes and the like). */
function sourceConstants(): Set<string> {
  const names = new Set<string>();
  for (const f of walkFiles(path.join(repoRoot, 'src'), (x) => x.endsWith('.ts'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/g)) if (m[1]) names.add(m[1]);
  }
  return names;
}

// Read by the shell, Node.js, libuv, the Docker CLI or glibc, not by the project.
const SYSTEM = new Set(['PATH', 'HOME', 'CI', 'NODE_OPTIONS', 'DOCKER_HOST', 'MALLOC_ARENA_MAX', 'UV_THREADPOOL_SIZE']);

test('every environment variable the docs set, expand or name exists in the code, compose files or SDKs', () => {
  const project = projectVariables();
  const sdk = sdkVariables();
  const constants = sourceConstants();
  const isVariable = (n: string) => project.has(n) || sdk.has(n) || SYSTEM.has(n);
  let seen = 0;
  const bad = failures((d) => {
    const out = new Set<string>();
    for (const code of codeOf(d)) {
      // Assigned (NAME=value) or expanded ($NAME, ${NAME}): certainly a variable.
      for (const m of code.matchAll(/(?<![\w-])([A-Z][A-Z0-9_]{2,})=|\$\{?([A-Z][A-Z0-9_]{2,})/g)) {
        const n = m[1] ?? m[2] ?? '';
        seen++;
        if (!isVariable(n)) out.add(n);
      }
    }
    // A bare NAME_WITH_UNDERSCORES in inline code: a variable, or a constant of the code (an error code).
    for (const span of d.inline) {
      if (!/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(span)) continue;
      seen++;
      if (!isVariable(span) && !constants.has(span)) out.add(span);
    }
    return [...out];
  });
  assert.deepEqual(bad, []);
  assert.ok(seen >= 15, `only ${seen} variables found`);
});

// ------------------------------------------------------------------- ports

const services = composeServices();
const publishedHostPorts = new Set(services.flatMap((s) => publishedPorts(s.svc).map((p) => p.published.replace(/^\$\{[^:}]+:-(\d+)\}$/, '$1'))));

/** service:port pairs the stack really uses: published targets and every `name:port` in compose/ and docker/. */
function serviceAddresses(): Set<string> {
  const names = new Set(services.map((s) => s.name));
  const out = new Set<string>();
  for (const s of services) for (const p of publishedPorts(s.svc)) out.add(`${s.name}:${p.target}`);
  const files = [...composeFiles().map((f) => path.join(repoRoot, f.file)), ...walkFiles(path.join(repoRoot, 'docker'), (f) => /\.(ya?ml|alloy)$/.test(f))];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\b([a-z][\w-]*):(\d{2,5})\b/g)) if (names.has(m[1] ?? '')) out.add(`${m[1]}:${m[2]}`);
  }
  return out;
}

test('every host port the docs name is published by a Compose service', () => {
  let seen = 0;
  const bad = failures((d) => {
    const ports = [
      ...[...d.text.matchAll(/\b(?:localhost|127\.0\.0\.1):(\d{2,5})\b/g)].map((m) => m[1] ?? ''),
      ...[...d.prose.matchAll(/(?:^|[\s(|/])(?<!\d):(\d{4,5})\b/gm)].map((m) => m[1] ?? ''),
      ...d.inline.filter((s) => /^:\d{2,5}$/.test(s)).map((s) => s.slice(1)),
    ];
    seen += ports.length;
    return [...new Set(ports.filter((p) => !publishedHostPorts.has(p)))].map((p) => `port ${p}`);
  });
  assert.deepEqual(bad, []);
  assert.ok(seen >= 30, `only ${seen} ports found`);
});

test('every service:port inside the Compose network that the docs name is one the stack uses', () => {
  const known = serviceAddresses();
  const names = new Set(services.map((s) => s.name));
  const bad = failures((d) =>
    [...d.text.matchAll(/(?<![\w.-])([a-z][\w-]*):(\d{2,5})\b/g)]
      .filter((m) => names.has(m[1] ?? ''))
      .map((m) => `${m[1]}:${m[2]}`)
      .filter((a) => !known.has(a)),
  );
  assert.deepEqual(bad, []);
});

// ------------------------------------------------------------ service routes

/** The service's route templates: every '/api…', '/health…' or '/metrics' string in src/, as a pattern. */
function serviceRoutes(): RegExp[] {
  const templates = new Set<string>();
  for (const f of walkFiles(path.join(repoRoot, 'src'), (x) => x.endsWith('.ts'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/['"`](\/(?:api|health|metrics)[\w/:-]*)['"`]/g)) if (m[1]) templates.add(m[1]);
  }
  return [...templates].map((t) => new RegExp(`^${t.replace(/:\w+/g, '[^/]+')}/?$`));
}

test('every path the docs request from the service is one of its routes', () => {
  const routes = serviceRoutes();
  let seen = 0;
  const bad = failures((d) => {
    const paths = codeOf(d).flatMap((code) => [
      ...[...code.matchAll(/\b(?:localhost|127\.0\.0\.1|backend):3000(\/[^\s'"`?)|]*)/g)].map((m) => m[1] ?? ''),
      ...[...code.matchAll(/\b(?:GET|POST|PUT|DELETE|PATCH) (\/(?:api|health|metrics)[^\s'"`?)|]*)/g)].map((m) => m[1] ?? ''),
    ]);
    return paths
      .map((p) => p.replace(/[.,;:]+$/, '').replace(/<[^>]+>/g, 'x'))
      .filter((p) => p !== '' && p !== '/')
      .filter((p) => {
        seen++;
        return !routes.some((r) => r.test(p));
      });
  });
  assert.deepEqual(bad, []);
  assert.ok(seen >= 20, `only ${seen} service paths found`);
});

// ----------------------------------------------------------------- compose

const profiles = new Set(services.flatMap((s) => (s.svc.profiles ?? []) as string[]));
const serviceNames = new Set(services.map((s) => s.name));
const VALUE_OPTIONS = new Set([
  '-f',
  '--file',
  '--profile',
  '-p',
  '--project-name',
  '--env-file',
  '--tail',
  '-e',
  '--entrypoint',
  '-u',
  '--user',
  '-w',
  '--workdir',
  '--scale',
  '-t',
  '--timeout',
]);

test('every docker compose command names compose files, profiles and services that exist', () => {
  let seen = 0;
  const bad = failures((d) =>
    shellLines(d).flatMap((line) => {
      const out: string[] = [];
      for (const m of line.matchAll(/docker compose ([^|;&#)]*)/g)) {
        const words = (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
        if (words.some((w) => /[<>…]|\.\.\./.test(w))) continue;
        seen++;
        let sub: string | undefined;
        for (let i = 0; i < words.length; i++) {
          const w = words[i] ?? '';
          if (VALUE_OPTIONS.has(w)) {
            const v = words[++i] ?? '';
            if ((w === '-f' || w === '--file') && !existsSync(path.join(repoRoot, v))) out.push(`compose file ${v}`);
            if (w === '--profile' && !profiles.has(v)) out.push(`profile ${v}`);
            continue;
          }
          if (w.startsWith('-')) continue;
          if (!sub) {
            sub = w;
            continue;
          }
          // After `run`, the first word is the service and the rest is its command.
          if (!serviceNames.has(w)) out.push(`service ${w} (in: docker compose ${words.join(' ')})`);
          if (sub === 'run' || sub === 'exec') break;
        }
      }
      return out;
    }),
  );
  assert.deepEqual(bad, []);
  assert.ok(seen >= 20, `only ${seen} docker compose commands found`);
});

test('the Korean lab has the same commands as the English one', () => {
  const commands = (file: string) =>
    new Set(
      shellLines(readDoc(file))
        .map((l) => l.trim())
        .filter((l) => /^(npm|docker|curl|cp|export) /.test(l)),
    );
  const en = commands('docs/lab.md');
  const ko = commands('docs/lab.ko.md');
  assert.deepEqual(
    [...en].filter((c) => !ko.has(c)),
    [],
    'in lab.md only',
  );
  assert.deepEqual(
    [...ko].filter((c) => !en.has(c)),
    [],
    'in lab.ko.md only',
  );
  assert.ok(en.size >= 20);
});

test('the Prometheus scrape jobs the doctor knows are the ones prometheus.yml defines', () => {
  const jobs = (
    parseYaml(readFileSync(path.join(repoRoot, 'docker', 'prometheus', 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] }
  ).scrape_configs.map((j) => j.job_name);
  for (const job of jobs) assert.ok(JOB_SERVICE[job], `the doctor names the Compose service behind job ${job}`);
});

// ------------------------------------------------------------------ Node.js

/**
 * Records of past measurements, which name the runtime they ran on by design: the whole of
 * docs/benchmark.md, and elsewhere a version in a sentence that says it was measured.
 */
const MEASUREMENT_RECORDS = new Set(['docs/benchmark.md']);

test('every Node.js version the docs state is a pin of tools/versions.env or at least the minimum of src/require-node.ts', () => {
  const pin = pinnedVersions().NODE_VERSION ?? '';
  const other = pinnedVersions().NODE_LTS_OTHER_VERSION ?? '';
  assert.match(pin, /^\d+\.\d+\.\d+$/, 'tools/versions.env has NODE_VERSION');
  assert.match(other, /^\d+\.\d+\.\d+$/, 'tools/versions.env has NODE_LTS_OTHER_VERSION');
  const minimumMajor = Number.parseInt(MINIMUM_NODE, 10);
  const pinMajor = Number.parseInt(pin, 10);
  const otherMajor = Number.parseInt(other, 10);
  assert.ok(pinMajor >= minimumMajor, `the pin ${pin} is at least MINIMUM_NODE ${MINIMUM_NODE}`);
  assert.ok(otherMajor >= minimumMajor && otherMajor !== pinMajor, `the other LTS line ${other}: at least ${MINIMUM_NODE}, not the pin's`);
  const pins = new Map([
    [pinMajor, `${pin} (NODE_VERSION)`],
    [otherMajor, `${other} (NODE_LTS_OTHER_VERSION)`],
  ]);
  let seen = 0;
  const bad = failures((d) => {
    if (MEASUREMENT_RECORDS.has(d.file)) return [];
    const out: string[] = [];
    for (const m of d.text.matchAll(/\bNode(?:\.js)?\**\s+v?(\d+(?:\.\d+){0,2})(?![.\d])/g)) {
      const version = m[1] ?? '';
      const at = m.index;
      if (/\bmeasured\b/.test(d.text.slice(Math.max(0, at - 120), at + 60))) continue;
      seen++;
      const major = Number.parseInt(version, 10);
      const full = version.split('.').length === 3;
      if (major < minimumMajor) out.push(`Node.js ${version} (the minimum is ${MINIMUM_NODE}, src/require-node.ts)`);
      else if (full && pins.has(major) && !(pins.get(major) ?? '').startsWith(`${version} `)) {
        out.push(`Node.js ${version} (the pin is ${pins.get(major)}, tools/versions.env)`);
      }
    }
    return out;
  });
  assert.deepEqual(bad, []);
  assert.ok(seen >= 4, `only ${seen} Node.js versions found`);
});

// ------------------------------------------------------------------ the lab's order

/** The seed catalog's stock by product id (ids are given in insertion order, from 1). */
function seedStock(): Map<number, number> {
  const sql = readFileSync(path.join(repoRoot, 'migrations', '0003_seed_catalog.up.sql'), 'utf8');
  const rows = [...sql.matchAll(/^\s*\('[A-Z]{3}-\d{3}',.*,\s*(\d+)\)[,;]\s*$/gm)].map((m) => Number(m[1]));
  return new Map(rows.map((stock, i) => [i + 1, stock]));
}

/** A class of 30 ordering ten times each, on one shared database. */
const LAB_ORDERS = 300;

test("the lab's order shows its status code and asks for a product whose seed stock lasts a class", () => {
  const stock = seedStock();
  assert.ok(stock.size >= 40, `only ${stock.size} seed products read from migrations/0003_seed_catalog.up.sql`);
  for (const file of ['docs/lab.md', 'docs/lab.ko.md']) {
    const orders = shellLines(readDoc(file)).filter((l) => /^curl .*\/api\/orders\b/.test(l.trim()) && /-X POST/.test(l));
    assert.ok(orders.length >= 1, `${file} places an order`);
    for (const line of orders) {
      assert.match(line, /-w '[^']*%\{http_code\}|\s-i\s/, `${file}: the order's curl prints the status code`);
      const body = JSON.parse(/-d '([^']+)'/.exec(line)?.[1] ?? '{}') as { items?: { productId: number; quantity: number }[] };
      assert.ok(body.items?.length, `${file}: the order has items`);
      for (const { productId, quantity } of body.items ?? []) {
        const units = stock.get(productId) ?? 0;
        assert.ok(
          units >= quantity * LAB_ORDERS,
          `${file}: product ${productId} starts with ${units} units, not enough for ${LAB_ORDERS} orders of ${quantity}`,
        );
      }
    }
  }
});

// ------------------------------------------------------ figures that follow from files

/** "15s", "2m", "1m30s", "1h" -> seconds. */
function seconds(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+)(h|m|s)/g)) total += Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2] as 'h' | 'm' | 's'];
  return total;
}

const prometheusConfig = parseYaml(readFileSync(path.join(repoRoot, 'docker', 'prometheus', 'prometheus.yml'), 'utf8')) as {
  global: { evaluation_interval: string };
};
const evaluationSeconds = seconds(prometheusConfig.global.evaluation_interval);

/** Every alerting rule's `for:`, by alert name. */
function alertFor(): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of readdirSync(path.join(repoRoot, 'docker', 'prometheus', 'rules')).filter((x) => /\.ya?ml$/.test(x))) {
    const doc = parseYaml(readFileSync(path.join(repoRoot, 'docker', 'prometheus', 'rules', f), 'utf8')) as {
      groups: { interval?: string; rules: { alert?: string; for?: string }[] }[];
    };
    for (const g of doc.groups) {
      assert.equal(g.interval, undefined, `rules/${f}: a group's own interval would change the timings below`);
      for (const r of g.rules) if (r.alert) out.set(r.alert, seconds(r.for ?? '0s'));
    }
  }
  return out;
}

/**
 * When an alert fires after its condition starts to hold, as the docs state it: pending at the
 * first evaluation that sees the condition (the rate window needs a few scrapes first: up to two
 * evaluation intervals), firing at the evaluation after `for:` has passed.
 */
function firesAfter(alert: string): number {
  const forSeconds = alertFor().get(alert);
  assert.ok(forSeconds !== undefined, `alert ${alert} is defined in docker/prometheus/rules/`);
  return forSeconds + 2 * evaluationSeconds;
}

/** 150 -> "2½" (English prose), "2.5" (tables, the load tool), "2분 30초" (Korean). */
const minutes = {
  en: (s: number) => `${Math.floor(s / 60) || ''}${s % 60 === 30 ? '½' : s % 60 === 0 ? '' : `:${s % 60}`}`,
  decimal: (s: number) => String(s / 60),
  ko: (s: number) => `${Math.floor(s / 60)}분${s % 60 ? ` ${s % 60}초` : ''}`,
};

const dashboard = (file: string) =>
  JSON.parse(readFileSync(path.join(repoRoot, 'docker', 'grafana', 'dashboards', file), 'utf8')) as {
    refresh: string;
    panels: { title: string; fieldConfig?: { defaults?: { unit?: string } } }[];
  };

/** A figure in a doc: the regex must match, and its groups must read the values derived from the files. */
interface Figure {
  file: string;
  re: RegExp;
  want: string[];
  from: string;
}

function figures(): Figure[] {
  const http = firesAfter('HTTPErrorRate');
  const db = firesAfter('DatabaseConnectionFailed');
  const httpFor = `${(alertFor().get('HTTPErrorRate') ?? 0) / 60}m`;
  const dora = `${seconds(dashboard('dora.json').refresh)}`;
  const red = dashboard('cloudmart-red.json');
  const ratioUnit = red.panels.find((p) => p.title === '5xx error ratio')?.fieldConfig?.defaults?.unit;
  const errorRate = scenarios.errors.fault?.errorRate ?? 0;
  const ratio = ratioUnit === 'percentunit' ? `${errorRate * 100} %` : String(errorRate);
  const rules = 'docker/prometheus/ (evaluation_interval, rules `for:`)';
  return [
    {
      file: 'docs/lab.md',
      re: /turns \*\*pending\*\* within about (\d+) s \(the rule\s+is evaluated every (\d+) s/,
      want: [`${2 * evaluationSeconds}`, `${evaluationSeconds}`],
      from: rules,
    },
    { file: 'docs/lab.md', re: /`for: (\w+)`, about (\S+) minutes after the start/, want: [httpFor, minutes.en(http)], from: rules },
    { file: 'docs/lab.md', re: /the alert fired at about (\S+)\. /, want: [minutes.en(http)], from: rules },
    { file: 'docs/lab.md', re: /After about (\S+) minutes Prometheus fires\s+\*\*DatabaseConnectionFailed\*\*/, want: [minutes.en(db)], from: rules },
    {
      file: 'docs/lab.ko.md',
      re: /`HTTPErrorRate`가 (\d+)초 안쪽에 \*\*pending\*\*이 됩니다\(룰은 (\d+)초마다/,
      want: [`${2 * evaluationSeconds}`, `${evaluationSeconds}`],
      from: rules,
    },
    {
      file: 'docs/lab.ko.md',
      re: /`for: (\w+)`이 지나면 \*\*firing\*\*, 시작부터 약 (\d+분(?: \d+초)?) 뒤입니다/,
      want: [httpFor, minutes.ko(http)],
      from: rules,
    },
    { file: 'docs/lab.ko.md', re: /알림은 (\d+분(?: \d+초)?)쯤 울렸습니다/, want: [minutes.ko(http)], from: rules },
    { file: 'docs/lab.ko.md', re: /(\d+분(?: \d+초)?)쯤 지나면 Prometheus에서\s+\*\*DatabaseConnectionFailed\*\*/, want: [minutes.ko(db)], from: rules },
    {
      file: 'docs/load-and-chaos.md',
      re: /rules are evaluated\s+every (\d+) s, so an alert fires about its `for:` plus (\d+)–(\d+) s/,
      want: [`${evaluationSeconds}`, `${evaluationSeconds}`, `${3 * evaluationSeconds}`],
      from: rules,
    },
    { file: 'docs/lab.md', re: /\*\*DORA four keys\*\* dashboard in Grafana shows the same, refreshed every (\d+) s/, want: [dora], from: 'dora.json refresh' },
    { file: 'docs/lab.ko.md', re: /\*\*DORA four keys\*\* 대시보드에도 같은 값이 (\d+)초마다 갱신됩니다/, want: [dora], from: 'dora.json refresh' },
    {
      file: 'docs/lab.md',
      re: /\*5xx error ratio\* is near ([\d.]+(?: %)?) and/,
      want: [ratio],
      from: `the errors scenario's errorRate on a ${ratioUnit} panel`,
    },
    {
      file: 'docs/lab.ko.md',
      re: /error\s+ratio\*는 ([\d.]+(?: %)?) 근처/,
      want: [ratio],
      from: `the errors scenario's errorRate on a ${ratioUnit} panel`,
    },
  ];
}

test('alert timings, dashboard refreshes and panel values the docs state are the ones the files they describe give', () => {
  const bad: string[] = [];
  for (const f of figures()) {
    const m = f.re.exec(readFileSync(path.join(repoRoot, f.file), 'utf8'));
    if (!m) bad.push(`${f.file}: no longer says ${f.re} (reword the check with the text)`);
    else if (m.slice(1).join(' | ') !== f.want.join(' | ')) bad.push(`${f.file}: says ${m.slice(1).join(' | ')}, ${f.from} give ${f.want.join(' | ')}`);
  }
  assert.deepEqual(bad, []);
});

test("the Fires-after column of load-and-chaos.md and the load scenarios' descriptions follow from the rules", () => {
  const bad: string[] = [];
  let rows = 0;
  for (const line of readFileSync(path.join(repoRoot, 'docs', 'load-and-chaos.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const alert = /^\*\*(\w+)\*\*/.exec(cells[2] ?? '')?.[1];
    const after = /^([\d.]+) min$/.exec(cells[3] ?? '')?.[1];
    if (!alert || !after) continue;
    rows++;
    if (after !== minutes.decimal(firesAfter(alert)))
      bad.push(`load-and-chaos.md: ${alert} fires after about ${after} min, the rules give ${minutes.decimal(firesAfter(alert))}`);
  }
  assert.ok(rows >= 4, `only ${rows} rows of the Fires-after table read`);
  let described = 0;
  for (const s of Object.values(scenarios)) {
    const m = /trips (\w+) after ~([\d.]+) min/.exec(s.description);
    if (!m) continue;
    described++;
    const want = minutes.decimal(firesAfter(m[1] ?? ''));
    if (m[2] !== want) bad.push(`load/scenarios.ts ${s.name}: trips ${m[1]} after ~${m[2]} min, the rules give ${want}`);
    if (s.durationSeconds < firesAfter(m[1] ?? '')) bad.push(`load/scenarios.ts ${s.name}: ${s.durationSeconds} s ends before ${m[1]} fires`);
  }
  assert.ok(described >= 2, `only ${described} scenarios say which alert they trip`);
  assert.deepEqual(bad, []);
});

// ------------------------------------------------------------ the lab's services

test("the lab's service list and healthcheck list are the services of its profile (core set + exporters)", () => {
  const profilesOf = (s: (typeof services)[number]) => (s.svc.profiles ?? []) as string[];
  const inLab = services.filter((s) => profilesOf(s).length === 0 || profilesOf(s).includes('exporters'));
  const names = new Set(inLab.map((s) => s.name));
  const healthy = new Set(inLab.filter((s) => s.svc.healthcheck && s.svc.healthcheck.disable !== true).map((s) => s.name));
  /** "backend, lb (nginx, …), Postgres, …" -> service names: the first word of each item, lower case. */
  const list = (text: string) =>
    new Set(
      text
        .replace(/\([^)]*\)/g, '')
        .split(/,\s*/)
        .map((w) => w.trim().toLowerCase())
        .filter(Boolean),
    );
  for (const [file, servicesRe, healthRe] of [
    ['docs/lab.md', /\(`--profile exporters`\):\s+([^.]+)\. The/, /one with a\s+healthcheck \(([^)]+)\)/],
    ['docs/lab.ko.md', /\(`--profile exporters`\)로 진행합니다\.\s+([^.]+)가 뜹니다/, /헬스체크가 있는 서비스\(([^)]+)\)/],
  ] as const) {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const listed = servicesRe.exec(text)?.[1];
    assert.ok(listed, `${file}: the list of the lab's services`);
    assert.deepEqual([...list(listed)].sort(), [...names].sort(), `${file}: the services of the core set and the exporters`);
    const checked = healthRe.exec(text)?.[1];
    assert.ok(checked, `${file}: the list of services with a healthcheck`);
    assert.deepEqual([...list(checked)].sort(), [...healthy].sort(), `${file}: the services with a healthcheck`);
  }
});

test('the Korean lab marks a checkpoint (**확인:**) wherever the English one says **You should see**, step by step', () => {
  /** Checkpoints per `## ` section. */
  const checkpoints = (file: string, mark: RegExp) =>
    readFileSync(path.join(repoRoot, file), 'utf8')
      .split(/^## /m)
      .slice(1)
      .map((section) => `${section.split('\n')[0]}: ${[...section.matchAll(mark)].length}`);
  const en = checkpoints('docs/lab.md', /\*\*you should\s+see\*\*/gi);
  const ko = checkpoints('docs/lab.ko.md', /\*\*확인:\*\*/g);
  assert.equal(en.length, ko.length, 'both labs have the same steps');
  assert.deepEqual(
    ko.map((k) => k.replace(/^.*: /, '')),
    en.map((e) => e.replace(/^.*: /, '')),
    `checkpoints per step, English: ${en.join('; ')}`,
  );
  assert.ok(en.reduce((n, e) => n + Number(e.replace(/^.*: /, '')), 0) >= 6);
});

// ------------------------------------------------------------ the lab's AWS section

/** The lab's last part, the course's "solution second": the same telemetry on AWS, by the collector's config alone. */
const SOLUTION_SECOND = [
  { file: 'docs/lab.md', heading: /^## Solution second: /im },
  { file: 'docs/lab.ko.md', heading: /^## Solution second: /im },
] as const;

function solutionSecond(file: string, heading: RegExp): Doc {
  const text = readFileSync(path.join(repoRoot, file), 'utf8');
  const at = text.search(heading);
  assert.ok(at >= 0, `${file} has the section ${heading}`);
  const end = text.indexOf('\n## ', at + 1);
  return readDoc(file, text.slice(at, end < 0 ? undefined : end));
}

test("the lab's Solution second section sets what reaches the collector and names what export/aws.yaml configures, in both languages", () => {
  const collector = services.find((s) => s.name === 'otel-collector');
  assert.ok(collector, 'an otel-collector service in the compose files');
  /** What compose/.env can hand the collector: its environment, and the variables its command expands. */
  const passed = new Set([
    ...Object.keys((collector.svc.environment ?? {}) as Record<string, string>),
    ...[...JSON.stringify(collector.svc.command ?? '').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? ''),
  ]);
  const awsFile = path.join(repoRoot, 'docker', 'otel-collector', 'export', 'aws.yaml');
  const awsText = readFileSync(awsFile, 'utf8');
  const aws = parseYaml(awsText) as {
    exporters: {
      awsxray: { indexed_attributes: string[] };
      awsemf: { namespace: string; log_group_name: string; metric_declarations: { dimensions: string[][] }[] };
    };
  };
  const reads = [...awsText.matchAll(/\$\{env:([A-Z][A-Z0-9_]+)(:-)?/g)];
  const readByAws = new Set(reads.map((m) => m[1] ?? ''));
  /** Read without a default: the section must have the student set them. */
  const required = [...new Set(reads.filter((m) => !m[2]).map((m) => m[1] ?? ''))];
  const appText = readFileSync(path.join(repoRoot, 'compose', 'app.yaml'), 'utf8');
  const { namespace, log_group_name: logGroup, metric_declarations: declarations } = aws.exporters.awsemf;
  const dimensions = [...(declarations[0]?.dimensions[0] ?? [])].sort().join(', ');
  const code: string[][] = [];
  for (const { file, heading } of SOLUTION_SECOND) {
    const d = solutionSecond(file, heading);
    code.push([...new Set(codeOf(d).map((c) => c.trim()))].sort());
    // The lines it has the student add to compose/.env.
    const set = d.blocks.filter((b) => b.lang === 'ini').flatMap((b) => [...b.body.matchAll(/^([A-Z][A-Z0-9_]{2,})=/gm)].map((m) => m[1] ?? ''));
    for (const n of set) assert.ok(passed.has(n), `${file} sets ${n} in compose/.env, which compose/app.yaml does not hand the otel-collector service`);
    for (const n of required) assert.ok(set.includes(n), `${file}: export/aws.yaml needs ${n} (no default), the section does not set it`);
    const named = new Set(d.inline.flatMap((s) => [...s.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/g)].map((m) => m[1] ?? '')));
    for (const n of named) assert.ok(readByAws.has(n) || appText.includes(n), `${file} names ${n}, which neither compose/app.yaml nor export/aws.yaml has`);
    assert.ok(d.text.includes(`All metrics → ${namespace} → ${dimensions}*`), `${file}: CloudWatch's namespace ${namespace} and dimensions ${dimensions}`);
    assert.ok(d.inline.includes(logGroup), `${file}: the EMF log group ${logGroup}`);
    const annotation = /annotation\[([\w.]+)\]/.exec(d.text)?.[1];
    assert.ok(
      annotation && aws.exporters.awsxray.indexed_attributes.includes(annotation),
      `${file}: X-Ray is searched by ${annotation}, an indexed_attributes entry`,
    );
  }
  assert.deepEqual(code[1], code[0], 'both languages show the same code');
});

// ------------------------------------------------------------ the lab without Node.js

const LABS = [
  { file: 'docs/lab.md', withoutNode: /\bwithout node\.js\b/i },
  { file: 'docs/lab.ko.md', withoutNode: /Node\.js가\s+없다면/ },
] as const;

test('every step of the lab that runs a Node.js script (npm run load, doctor, dora:deploy) also gives the way without Node.js', () => {
  for (const { file, withoutNode } of LABS) {
    const steps = readFileSync(path.join(repoRoot, file), 'utf8')
      .split(/^## /m)
      .filter((s) => /^\d+\./.test(s));
    // A fenced command, not a mention: the step has the student run it.
    const usingNode = steps.filter((s) => [...s.matchAll(/^```bash\n([\s\S]*?)^```/gm)].some((b) => /^npm run (load|doctor|dora:deploy)\b/m.test(b[1] ?? '')));
    assert.ok(usingNode.length >= 5, `${file}: only ${usingNode.length} steps run a Node.js script`);
    const bad = usingNode.filter((s) => !withoutNode.test(s)).map((s) => s.split('\n')[0]);
    assert.deepEqual(bad, [], `${file}: steps that run a Node.js script and give no way without it`);
  }
});

test('the k6 runs the docs show name a scenario and a duration load/k6.js accepts, through the variables the k6 service maps', () => {
  const k6 = services.find((s) => s.name === 'k6');
  assert.ok(k6, 'a k6 service in the compose files');
  const env = (k6.svc.environment ?? {}) as Record<string, string>;
  assert.match(env.SCENARIO ?? '', /^\$\{LOAD_SCENARIO(:-\w+)?\}$/, 'the k6 service takes SCENARIO from LOAD_SCENARIO');
  assert.match(env.DURATION ?? '', /^\$\{LOAD_DURATION(:-\w*)?\}$/, 'the k6 service takes DURATION from LOAD_DURATION');
  const k6Scenarios = new Set([...readFileSync(path.join(repoRoot, 'load', 'k6.js'), 'utf8').matchAll(/^ {2}(\w+): \{ exec: /gm)].map((m) => m[1]));
  assert.deepEqual([...k6Scenarios].sort(), Object.keys(scenarios).sort(), 'load/k6.js has the scenarios of load/scenarios.ts');
  let seen = 0;
  const bad = failures((d) =>
    shellLines(d).flatMap((line) => {
      const out: string[] = [];
      for (const m of line.matchAll(/\bLOAD_SCENARIO=([\w-]+)/g)) {
        seen++;
        if (!k6Scenarios.has(m[1])) out.push(`LOAD_SCENARIO=${m[1]} is no scenario of load/k6.js`);
      }
      for (const m of line.matchAll(/\bLOAD_DURATION=(\S+)/g)) {
        // load/k6.js: 45s, 2m or 90, at most 10m.
        const d = /^(\d+)(ms|s|m|h)?$/.exec(m[1] ?? '');
        const s = d ? Number(d[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[(d[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : NaN;
        if (!(s > 0 && s <= 600)) out.push(`LOAD_DURATION=${m[1]} is not a duration load/k6.js takes`);
      }
      return out;
    }),
  );
  assert.deepEqual(bad, []);
  assert.ok(seen >= 4, `only ${seen} LOAD_SCENARIO runs found`);
});

test("the lab's deployment curl sends, from the checkout, a body the DORA endpoint accepts, for the stack backend's service name", () => {
  const backend = services.find((s) => s.name === 'backend');
  const serviceName = ((backend?.svc.environment ?? {}) as Record<string, string>).OTEL_SERVICE_NAME;
  assert.ok(serviceName, "the backend's OTEL_SERVICE_NAME in the compose files");
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  for (const { file } of LABS) {
    const posts = shellLines(readDoc(file)).filter((l) => /^curl .*-X POST .*\/api\/dora\/deployments\b/.test(l.trim()));
    assert.equal(posts.length, 1, `${file}: one curl records a deployment`);
    const arg = / -d ("(?:[^"\\]|\\.)*")/.exec(posts[0] ?? '')?.[1];
    assert.ok(arg, `${file}: the curl's -d "…" body`);
    // The shell expands it as a student's would: the $(git …) in it read this checkout.
    const sent = execFileSync('bash', ['-c', `printf '%s' ${arg}`], { cwd: repoRoot, encoding: 'utf8' });
    const parsed = deploymentRequest.safeParse(JSON.parse(sent));
    assert.ok(parsed.success, `${file}: ${sent} -> ${parsed.error?.message}`);
    assert.equal(parsed.data.service, serviceName, `${file}: the deployment is recorded for the service the backend reports`);
    assert.equal(parsed.data.commitSha, head);
  }
});

test('the messages the lab quotes are the ones the code prints', () => {
  const code = ['src', 'load'].flatMap((d) => walkFiles(path.join(repoRoot, d), (f) => /\.(ts|js)$/.test(f))).map((f) => readFileSync(f, 'utf8'));
  const quotes = [
    'span export failing',
    'span export recovered',
    'pass --token or set CHAOS_TOKEN',
    'switched off again',
    'fault on: ',
    'fault off',
    'send Authorization: Bearer <',
  ];
  for (const { file } of LABS) {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    for (const q of quotes) {
      assert.ok(text.includes(q), `${file} quotes ${JSON.stringify(q)}`);
      assert.ok(
        code.some((c) => c.includes(q)),
        `${JSON.stringify(q)}, quoted by ${file}, is printed nowhere in src/ or load/`,
      );
    }
  }
  // The failing export's line names its endpoint in a field `target`, which the lab teaches to read.
  assert.ok(
    code.some((c) => /\{\s*target\b[^}]*\},\s*'span export failing/.test(c)),
    "the 'span export failing' log line carries a target field",
  );
});
