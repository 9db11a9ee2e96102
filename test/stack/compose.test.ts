/**
 * The Compose stack (compose/*.yaml), checked without a Docker engine: the
 * project's own rules that Compose does not enforce (pinned images, unique host
 * ports, memory limits, self-contained layers, the core set's memory budget).
 * Compose itself loads and validates every file and profile in compose-cli.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { composeFiles, composeServices, memoryLimit, publishedPorts, readYaml, repoRoot, type ComposeService, type Yaml } from '../helpers/stack';
import { pinnedVersions } from '../helpers/tools';

const CORE = ['backend', 'lb', 'postgres', 'redis', 'otel-collector', 'prometheus', 'alertmanager', 'grafana', 'jaeger', 'loki', 'promtail'];
const GiB = 1024 ** 3;

const files = composeFiles();
const services = composeServices();

function bySvc(name: string): ComposeService {
  const s = services.find((x) => x.name === name);
  assert.ok(s, `service ${name} is defined`);
  return s;
}

test('compose.yaml includes every other layer and defines no services itself', () => {
  const main = files.find((f) => f.file === 'compose/compose.yaml');
  assert.ok(main, 'compose/compose.yaml exists');
  const included = (main.doc.include ?? []).map((i: string | { path: string }) => (typeof i === 'string' ? i : i.path));
  const layers = files.filter((f) => f.file !== 'compose/compose.yaml').map((f) => path.basename(f.file));
  assert.deepEqual([...included].sort(), [...layers].sort());
  assert.equal(main.doc.services, undefined);
});

test('every image is pinned to an explicit version, never latest', () => {
  for (const { file, name, svc } of services) {
    if (!svc.image) {
      assert.ok(svc.build, `${file}:${name} has an image or a build`);
      continue;
    }
    const image: string = svc.image;
    assert.doesNotMatch(image, /:latest(@|$)/, `${file}:${name} uses latest`);
    if (image.includes('@sha256:')) continue;
    const lastSegment = image.slice(image.lastIndexOf('/') + 1);
    assert.match(lastSegment, /:[\w$][\w.${}:-]*$/, `${file}:${name} image ${image} has no tag`);
    if (!svc.build) {
      // third-party images: a concrete version (contains a digit), no variables
      const tag = lastSegment.slice(lastSegment.indexOf(':') + 1);
      assert.match(tag, /\d/, `${file}:${name} tag ${tag} is not a version`);
      assert.doesNotMatch(tag, /\$/, `${file}:${name} tag ${tag} must not come from a variable`);
      assert.doesNotMatch(tag, /^\d+$/, `${file}:${name} tag ${tag} is only a major version`);
    }
  }
});

test('no two services publish the same host port, across all files', () => {
  const seen = new Map<string, string>();
  for (const { file, name, svc } of services) {
    for (const p of publishedPorts(svc)) {
      const key = `${defaultHostPort(p.published)}/${p.protocol}`;
      assert.ok(!seen.has(key), `host port ${key} published by ${seen.get(key)} and ${file}:${name}`);
      seen.set(key, `${file}:${name}`);
    }
  }
  // the collisions the course had: backend and Grafana both on 3000, cAdvisor on 8080;
  // the load balancer publishes the API, the backend replicas nothing.
  assert.equal(seen.get('3000/tcp'), 'compose/app.yaml:lb');
  assert.deepEqual(publishedPorts(bySvc('backend').svc), [], 'replicas cannot share a host port');
  assert.equal(seen.get('3001/tcp'), 'compose/monitoring.yaml:grafana');
  assert.equal(seen.get('8081/tcp'), 'compose/exporters.yaml:cadvisor');
});

/** The host port a published port takes when its variable is unset: `${LB_HOST_PORT:-3000}` -> 3000. */
function defaultHostPort(published: string): string {
  return /^\$\{[A-Z0-9_]+:-(\d+)\}$/.exec(published)?.[1] ?? published;
}

test('every published host port moves by its own <NAME>_HOST_PORT variable, documented in .env.example with the default', () => {
  const example = fs.readFileSync(path.join(repoRoot, 'compose', '.env.example'), 'utf8');
  const variables = new Set<string>();
  for (const { file, name, svc } of services) {
    for (const p of publishedPorts(svc)) {
      const m = /^\$\{([A-Z0-9_]+_HOST_PORT):-(\d+)\}$/.exec(p.published);
      assert.ok(m?.[1] && m[2], `${file}:${name} publishes "${p.published}", not \${<NAME>_HOST_PORT:-<port>}`);
      assert.ok(!variables.has(m[1]), `${m[1]} moves two ports`);
      variables.add(m[1]);
      assert.match(example, new RegExp(`^# ${m[1]}=${m[2]}\\b`, 'm'), `.env.example documents ${m[1]}=${m[2]}`);
    }
  }
  assert.ok(variables.size >= 15, `${variables.size} port variables`);
});

test('every published port binds to ${BIND_ADDRESS:-127.0.0.1}: loopback by default, one variable opens them all', () => {
  let ports = 0;
  for (const { file, name, svc } of services) {
    for (const p of publishedPorts(svc)) {
      ports += 1;
      assert.equal(p.hostIp, '${BIND_ADDRESS:-127.0.0.1}', `${file}:${name} publishes ${p.published} on "${p.hostIp || 'every interface'}"`);
    }
  }
  assert.ok(ports >= 15, `${ports} published ports`);
  assert.match(fs.readFileSync(path.join(repoRoot, 'compose', '.env.example'), 'utf8'), /^# BIND_ADDRESS=127\.0\.0\.1$/m, '.env.example documents it');
});

test('node-exporter starts on Docker Desktop (no rslave on / by default); cAdvisor comes from ghcr.io at v0.57.0', () => {
  const node = bySvc('node-exporter').svc;
  const rootMount = (node.volumes as string[]).find((v) => v.startsWith('/:/host:'));
  assert.equal(rootMount, '/:/host:${HOST_ROOT_MOUNT:-ro}', 'Docker Desktop refuses rslave: / is not a shared mount in its VM');
  assert.ok(node.command.includes('--path.rootfs=/host'));
  // gcr.io/cadvisor stopped at v0.52; v0.54-0.56 lose container metrics without a visible containerd socket.
  assert.equal(bySvc('cadvisor').svc.image, 'ghcr.io/google/cadvisor:v0.57.0');
});

test('Prometheus, Alertmanager and Jaeger images are the releases the tests build and run (tools/versions.env)', () => {
  const pins = pinnedVersions();
  assert.equal(bySvc('prometheus').svc.image, `prom/prometheus:v${pins.PROMETHEUS_VERSION}`);
  assert.equal(bySvc('alertmanager').svc.image, `prom/alertmanager:v${pins.ALERTMANAGER_VERSION}`);
  assert.equal(bySvc('jaeger').svc.image, `jaegertracing/jaeger:${pins.JAEGER_VERSION}`);
});

test('every service has a memory limit and no container_name', () => {
  for (const { file, name, svc } of services) {
    const limit = memoryLimit(svc);
    assert.ok(limit && limit > 0, `${file}:${name} has mem_limit or deploy.resources.limits.memory`);
    assert.equal(svc.container_name, undefined, `${file}:${name} sets container_name`);
  }
});

test('long-running services restart; depends_on stays inside its file and waits on real healthchecks', () => {
  for (const { file, doc } of files) {
    for (const [name, svc] of Object.entries<Yaml>(doc.services ?? {})) {
      if (name !== 'k6') assert.ok(svc.restart && svc.restart !== 'no', `${file}:${name} has a restart policy`);
      const deps = svc.depends_on ?? {};
      const entries: Array<[string, Yaml]> = Array.isArray(deps) ? deps.map((d: string) => [d, {}]) : Object.entries(deps);
      for (const [dep, cond] of entries) {
        // `include` resolves depends_on per file: a cross-file dependency breaks the layer.
        assert.ok(doc.services[dep], `${file}:${name} depends on ${dep}, which is not in the same file`);
        assert.ok(cond.condition, `${file}:${name} -> ${dep} uses the long syntax with a condition`);
        if (cond.condition === 'service_healthy') {
          assert.ok(doc.services[dep].healthcheck?.test, `${file}:${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
        }
      }
    }
  }
});

test('named volumes are declared and mounted config files exist', () => {
  for (const { file, doc } of files) {
    const declared = Object.keys(doc.volumes ?? {});
    for (const [name, svc] of Object.entries<Yaml>(doc.services ?? {})) {
      for (const v of svc.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : v.source;
        if (!source) continue;
        if (source.startsWith('../docker/') || source === '../Dockerfile') {
          const abs = path.resolve(repoRoot, 'compose', source);
          assert.ok(fs.existsSync(abs), `${file}:${name} mounts ${source}, which does not exist`);
        } else if (!source.startsWith('/') && !source.startsWith('.')) {
          assert.ok(declared.includes(source), `${file}:${name} uses volume ${source}, not declared in ${file}`);
        }
      }
    }
  }
});

test('the core set starts without profiles, the rest only with one', () => {
  const noProfile = services
    .filter((s) => !s.svc.profiles?.length)
    .map((s) => s.name)
    .sort();
  assert.deepEqual(noProfile, [...CORE].sort());
  for (const name of ['elasticsearch', 'kibana', 'apm-server']) assert.ok(bySvc(name).svc.profiles.includes('elastic'));
  for (const name of ['node-exporter', 'cadvisor', 'postgres-exporter', 'redis-exporter']) assert.ok(bySvc(name).svc.profiles.includes('exporters'));
  assert.deepEqual(bySvc('k6').svc.profiles, ['load']);
  assert.deepEqual(bySvc('alloy').svc.profiles, ['alloy']);
});

test('memory budget: core set fits an 8 GB laptop (4 GiB besides the load balancer), core + exporters + elastic stays under 7 GiB', () => {
  const sum = (names: string[]) => names.reduce((acc, n) => acc + (memoryLimit(bySvc(n).svc) ?? 0), 0);
  const exporters = services.filter((s) => s.svc.profiles?.includes('exporters')).map((s) => s.name);
  const elastic = services.filter((s) => s.svc.profiles?.includes('elastic')).map((s) => s.name);
  // The load balancer came with scaling out; its own small budget keeps the rest honest.
  assert.ok((memoryLimit(bySvc('lb').svc) ?? 0) <= 64 * 1024 ** 2, 'lb within 64 MiB');
  const core = sum(CORE.filter((n) => n !== 'lb'));
  const full = core + sum(exporters) + sum(elastic);
  assert.ok(core <= 4 * GiB, `core limits ${(core / GiB).toFixed(2)} GiB`);
  assert.ok(full <= 7 * GiB, `full limits ${(full / GiB).toFixed(2)} GiB`);
});

test('backend: built from the Dockerfile, wired to its dependencies, discoverable by promtail', () => {
  const { svc } = bySvc('backend');
  assert.equal(svc.build.dockerfile, 'Dockerfile');
  assert.ok(fs.existsSync(path.resolve(repoRoot, 'compose', svc.build.context, svc.build.dockerfile)));
  for (const arg of ['SERVICE_VERSION', 'GIT_COMMIT_SHA', 'GIT_COMMIT_TIME']) assert.ok(arg in svc.build.args, `build arg ${arg}`);
  const env = svc.environment;
  // Defaults for one host; the multi-host layout sets them in .env (docs/scale-out.md).
  assert.equal(env.DATABASE_URL, '${DATABASE_URL:-postgres://cloudmart:cloudmart@postgres:5432/cloudmart}');
  assert.equal(env.REDIS_URL, '${REDIS_URL:-redis://redis:6379}');
  // Traces go to this host's collector only; it routes them on (docker/otel-collector/).
  assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318');
  assert.equal(env.OTEL_SERVICE_NAME, 'cloudmart-backend');
  assert.match(env.ELASTIC_APM_SERVER_URL, /http:\/\/apm-server:8200/);
  for (const k of ['LOG_LEVEL', 'SERVICE_VERSION', 'GIT_COMMIT_SHA', 'GIT_COMMIT_TIME']) assert.ok(k in env, `env ${k}`);
  // The service validates these (sha = 7-40 hex, time = ISO 8601); empty means its default, a placeholder would stop it.
  for (const k of ['SERVICE_VERSION', 'GIT_COMMIT_SHA', 'GIT_COMMIT_TIME']) {
    assert.equal(env[k], `\${${k}:-}`, `env ${k} defaults to empty`);
    assert.equal(svc.build.args[k], `\${${k}:-}`, `build arg ${k} defaults to empty`);
  }
  assert.equal(svc.labels.logging, 'promtail');
  assert.ok(svc.healthcheck.test.join(' ').includes('/health'));
});

test('otel-collector: three config files merged as documented, healthy by its health endpoint, ahead of the backend', () => {
  const { svc } = bySvc('otel-collector');
  assert.deepEqual(svc.command, [
    '--config=/etc/otelcol/config.yaml',
    '--config=/etc/otelcol/export/${OTELCOL_EXPORT:-jaeger}.yaml',
    '--config=/etc/otelcol/sampling/${OTELCOL_SAMPLING:-all}.yaml',
  ]);
  assert.deepEqual(svc.volumes, ['../docker/otel-collector:/etc/otelcol:ro']);
  assert.ok(fs.existsSync(path.resolve(repoRoot, 'compose', svc.build.context, 'Dockerfile')));
  assert.ok(svc.healthcheck.test.join(' ').includes('13133'));
  assert.equal(bySvc('backend').svc.depends_on['otel-collector'].condition, 'service_healthy');
  // Every choice the two variables offer is a file that exists.
  for (const name of ['jaeger', 'elastic', 'aws']) assert.ok(fs.existsSync(path.join(repoRoot, 'docker/otel-collector/export', `${name}.yaml`)), name);
  for (const name of ['all', 'tail']) assert.ok(fs.existsSync(path.join(repoRoot, 'docker/otel-collector/sampling', `${name}.yaml`)), name);
});

test('WEBHOOK_TOKEN: the backend reads it, Alertmanager gets it in the file its config sends, never as an empty config', () => {
  assert.equal(bySvc('backend').svc.environment.WEBHOOK_TOKEN, '${WEBHOOK_TOKEN:-}', 'empty means unset to the service');
  const monitoring = files.find((f) => f.file === 'compose/monitoring.yaml');
  assert.ok(monitoring);
  const am = bySvc('alertmanager').svc;
  const mount = (am.configs as Yaml[]).find((c) => c.source === 'webhook-token');
  const credentialsFile = readYaml('docker/alertmanager/alertmanager.yml').global.http_config.authorization.credentials_file;
  assert.equal(mount?.target, credentialsFile, 'mounted where alertmanager.yml reads it');
  // Compose skips a config with empty content; the file would be missing and every delivery fail.
  assert.match(monitoring.doc.configs['webhook-token'].content, /^\$\{WEBHOOK_TOKEN:-[^}]+\}$/);
});

test('Dockerfile: multi-stage, production deps only, non-root, healthcheck, exec-form CMD with the telemetry register', () => {
  const df = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const froms = df.match(/^FROM\s+\S+/gm) ?? [];
  assert.ok(froms.length >= 2, 'multi-stage');
  // The exact tag is tools/versions.env's (test/server/runtime.test.ts).
  assert.match(df, /^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-[a-z]+-slim$/m, 'a pinned node:<version>-<debian>-slim');
  assert.match(df, /npm ci --omit=dev/);
  assert.match(df, /npm run build/);
  assert.match(df, /^USER node$/m);
  // The probe follows PORT (test/image/run.test.ts runs it with PORT≠3000); Compose's copy is the same command.
  const probe = /^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(df)?.[1];
  assert.ok(probe, 'exec-form HEALTHCHECK CMD');
  assert.match(probe, /process\.env\.PORT/);
  assert.doesNotMatch(probe, /:3000\//);
  assert.deepEqual(bySvc('backend').svc.healthcheck.test, ['CMD', ...(JSON.parse(probe) as string[])]);
  for (const arg of ['SERVICE_VERSION', 'GIT_COMMIT_SHA', 'GIT_COMMIT_TIME']) {
    assert.match(df, new RegExp(`^ARG ${arg}`, 'm'));
    assert.match(df, new RegExp(`${arg}=\\$\\{${arg}\\}`));
  }
  // The image runs exactly what `npm start` runs, heap flags included (the benchmark measures those).
  const cmd = /^CMD (\[.*\])$/m.exec(df)?.[1];
  assert.ok(cmd, 'exec-form CMD');
  const start = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  assert.deepEqual(JSON.parse(cmd) as string[], start.split(' '));
  assert.deepEqual((JSON.parse(cmd) as string[]).slice(-3), ['--require', './dist/telemetry/register.js', 'dist/server.js']);
  assert.match(df, /COPY migrations/);
  const ignore = fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['node_modules', '.git', '.env']) assert.ok(ignore.includes(entry), `.dockerignore lists ${entry}`);
});
