/**
 * What each pinned image can run in a healthcheck, read from the upstream
 * Dockerfile that builds it, and every Compose healthcheck checked against it.
 * No Docker engine runs here, so a healthcheck that calls a program its image
 * lacks (wget in a distroless image) would otherwise only show on a student's
 * laptop, as a dependency that never becomes healthy.
 *
 * A new tag fails the first test until its Dockerfile has been read again and
 * the entry below updated: base images change between releases (Loki dropped
 * busybox in 3.6.0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeServices, type ComposeService, type Yaml } from '../helpers/stack';

interface ImageFacts {
  /** The upstream Dockerfile (at the pinned release) the facts come from. */
  dockerfile: string;
  /** Base of the final stage. */
  base: string;
  /** Programs on the image's PATH, or absolute paths, that a healthcheck may call. `sh` means CMD-SHELL works. */
  can: string[];
  /** How the facts were read: at the pinned tag, at another revision of the same file, or from the image's documentation. */
  read: 'at the tag' | 'other revision' | 'documentation';
}

const BUSYBOX = ['sh', 'wget'];
const ALPINE = ['sh', 'wget'];

/** Keyed by the image reference exactly as Compose pins it. */
const IMAGES: Record<string, ImageFacts> = {
  'cloudmart/backend': {
    dockerfile: 'Dockerfile (this repository)',
    base: 'node, bookworm-slim (the version is ARG NODE_IMAGE in the Dockerfile)',
    can: ['sh', 'node'],
    read: 'at the tag',
  },
  'cloudmart/otel-collector': {
    dockerfile: 'docker/otel-collector/Dockerfile (this repository): otel/opentelemetry-collector-contrib copied onto busybox',
    base: 'busybox',
    can: [...BUSYBOX, '/otelcol-contrib'],
    read: 'at the tag',
  },
  'postgres:17.7': {
    dockerfile: 'https://github.com/docker-library/postgres/blob/master/17/trixie/Dockerfile',
    base: 'debian',
    can: ['sh', 'bash', 'pg_isready', 'psql'],
    read: 'documentation',
  },
  'redis:7.4.6-alpine': {
    dockerfile: 'https://github.com/docker-library/redis/blob/master/7.4/alpine/Dockerfile',
    base: 'alpine',
    can: [...ALPINE, 'redis-cli'],
    read: 'documentation',
  },
  'grafana/k6:1.7.1': {
    dockerfile: 'https://github.com/grafana/k6/blob/v1.7.1/Dockerfile',
    base: 'alpine',
    can: [...ALPINE, 'k6'],
    read: 'other revision',
  },
  'prom/prometheus:v3.16.0': {
    dockerfile: 'https://github.com/prometheus/prometheus/blob/v3.16.0/Dockerfile',
    base: 'quay.io/prometheus/busybox',
    can: [...BUSYBOX, 'prometheus', 'promtool'],
    read: 'at the tag',
  },
  'prom/alertmanager:v0.35.0': {
    dockerfile: 'https://github.com/prometheus/alertmanager/blob/v0.35.0/Dockerfile',
    base: 'quay.io/prometheus/busybox',
    can: [...BUSYBOX, 'alertmanager', 'amtool'],
    read: 'at the tag',
  },
  'grafana/grafana:12.4.2': {
    dockerfile: 'https://github.com/grafana/grafana/blob/v12.4.2/Dockerfile',
    base: 'alpine (apk add bash curl)',
    can: [...ALPINE, 'bash', 'curl', 'grafana'],
    read: 'other revision',
  },
  'jaegertracing/jaeger:2.12.0': {
    dockerfile: 'https://github.com/jaegertracing/jaeger/blob/v2.12.0/cmd/jaeger/Dockerfile (base: scripts/build/docker/base/Dockerfile)',
    base: 'alpine',
    can: [...ALPINE, '/cmd/jaeger/jaeger-linux'],
    read: 'at the tag',
  },
  'grafana/loki:3.7.2': {
    dockerfile: 'https://github.com/grafana/loki/blob/v3.7.2/cmd/loki/Dockerfile',
    base: 'gcr.io/distroless/static:nonroot (no shell, no wget: busybox went in 3.6.0, grafana/loki#19502)',
    // `loki -health` GETs http://localhost:3100/ready and exits 0 only on 200 (cmd/loki/health.go).
    can: ['/usr/bin/loki'],
    read: 'at the tag',
  },
  'grafana/promtail:3.6.10': {
    dockerfile: 'https://github.com/grafana/loki/blob/v3.6.10/clients/cmd/promtail/Dockerfile',
    base: 'ubuntu:noble (no wget, no curl)',
    can: ['sh', 'bash', '/usr/bin/promtail'],
    read: 'at the tag',
  },
  'grafana/alloy:v1.19.2': {
    dockerfile: 'https://github.com/grafana/alloy/blob/v1.19.2/Dockerfile',
    base: 'ubuntu:noble (apt-get install curl)',
    can: ['sh', 'bash', 'curl', '/bin/alloy'],
    read: 'other revision',
  },
  'nginx:1.28.0-alpine': {
    dockerfile: 'https://github.com/nginxinc/docker-nginx/blob/master/stable/alpine-slim/Dockerfile',
    base: 'alpine (busybox wget; the alpine variant adds modules on top of alpine-slim)',
    can: [...ALPINE, '/usr/sbin/nginx'],
    read: 'other revision',
  },
  'prom/node-exporter:v1.11.1': {
    dockerfile: 'https://github.com/prometheus/node_exporter/blob/v1.11.1/Dockerfile',
    base: 'quay.io/prometheus/busybox',
    can: [...BUSYBOX, '/bin/node_exporter'],
    read: 'at the tag',
  },
  'ghcr.io/google/cadvisor:v0.57.0': {
    dockerfile: 'https://github.com/google/cadvisor/blob/v0.57.0/deploy/Dockerfile',
    base: 'alpine:3.23',
    // Its own HEALTHCHECK runs /usr/bin/healthcheck.sh, a wget of /healthz.
    can: [...ALPINE, '/usr/bin/healthcheck.sh', '/usr/bin/cadvisor'],
    read: 'at the tag',
  },
  'quay.io/prometheuscommunity/postgres-exporter:v0.19.1': {
    dockerfile: 'https://github.com/prometheus-community/postgres_exporter/blob/v0.19.1/Dockerfile',
    base: 'quay.io/prometheus/busybox',
    can: [...BUSYBOX, '/bin/postgres_exporter'],
    read: 'at the tag',
  },
  'oliver006/redis_exporter:v1.83.0': {
    dockerfile: 'https://github.com/oliver006/redis_exporter/blob/v1.83.0/Dockerfile (target scratch-release; -alpine tags are the other stage)',
    base: 'scratch',
    can: ['/redis_exporter'],
    read: 'at the tag',
  },
  'docker.elastic.co/elasticsearch/elasticsearch:8.19.11': {
    dockerfile: 'https://github.com/elastic/elasticsearch/blob/v8.19.11/distribution/docker/src/docker/Dockerfile',
    base: 'ubuntu (apt-get install curl)',
    can: ['sh', 'bash', 'curl'],
    read: 'documentation',
  },
  'docker.elastic.co/kibana/kibana:8.19.11': {
    dockerfile: 'https://github.com/elastic/kibana/blob/v8.19.11/src/dev/build/tasks/os_packages/docker_generator/templates/base/Dockerfile',
    base: 'ubuntu (apt-get install curl)',
    can: ['sh', 'bash', 'curl'],
    read: 'documentation',
  },
  'docker.elastic.co/apm/apm-server:8.19.11': {
    dockerfile: 'https://github.com/elastic/apm-server/blob/v8.19.11/packaging/docker/Dockerfile',
    base: 'ubuntu',
    can: ['sh', 'bash', 'curl'],
    read: 'documentation',
  },
};

/** The image a service runs: its pinned reference, or the repository's name for what Compose builds. */
function imageKey(s: ComposeService): string {
  const image = String(s.svc.image ?? '');
  return s.svc.build ? image.replace(/:.*$/, '') : image;
}

/** Shell words that are not programs. */
const SHELL_BUILTINS = new Set(['exit', 'true', 'false', 'test', '[', 'echo', 'cd', '!']);

/** The programs a healthcheck `test` runs: the first word of CMD, or of each command of a CMD-SHELL line. */
function healthcheckPrograms(testField: Yaml): { needsShell: boolean; programs: string[] } {
  if (typeof testField === 'string') return healthcheckPrograms(['CMD-SHELL', testField]);
  const [kind, ...rest] = testField as string[];
  if (kind === 'NONE') return { needsShell: false, programs: [] };
  if (kind === 'CMD') return { needsShell: false, programs: [rest[0] ?? ''] };
  assert.equal(kind, 'CMD-SHELL', `healthcheck test starts with CMD, CMD-SHELL or NONE, not ${kind}`);
  const programs = (rest[0] ?? '')
    .split(/\|\||&&|[;|]/)
    .map((command) => command.trim().split(/\s+/)[0] ?? '')
    .filter((word) => word && !SHELL_BUILTINS.has(word));
  return { needsShell: true, programs };
}

function canRun(facts: ImageFacts, program: string): boolean {
  if (facts.can.includes(program)) return true;
  // A system bin directory path to a program the image has on PATH (/bin/wget, /usr/bin/curl) counts too.
  const m = /^\/(?:usr\/)?s?bin\/([^/]+)$/.exec(program);
  return m?.[1] !== undefined && facts.can.includes(m[1]);
}

const services = composeServices();

test('every image Compose pins has its Dockerfile facts here, and no entry is stale', () => {
  const used = new Set(services.map(imageKey));
  for (const s of services) assert.ok(IMAGES[imageKey(s)], `${s.file}:${s.name}: ${imageKey(s)} — read its Dockerfile and add what its healthcheck can call`);
  for (const key of Object.keys(IMAGES)) assert.ok(used.has(key), `${key} is no longer used by any service: drop or update its entry`);
});

test('every healthcheck calls only what its image has', () => {
  let checked = 0;
  for (const s of services) {
    const hc = s.svc.healthcheck;
    if (!hc?.test || hc.disable) continue;
    const facts = IMAGES[imageKey(s)];
    assert.ok(facts, `${s.name}: no facts for ${imageKey(s)}`);
    const { needsShell, programs } = healthcheckPrograms(hc.test);
    if (needsShell)
      assert.ok(facts.can.includes('sh'), `${s.file}:${s.name}: CMD-SHELL needs /bin/sh, which ${imageKey(s)} (${facts.base}) lacks; ${facts.dockerfile}`);
    assert.ok(programs.length > 0, `${s.name}: the healthcheck runs something`);
    for (const program of programs) {
      assert.ok(
        canRun(facts, program),
        `${s.file}:${s.name}: healthcheck calls ${program}, which ${imageKey(s)} (${facts.base}) lacks; it has ${facts.can.join(', ')} (${facts.dockerfile})`,
      );
    }
    checked += 1;
  }
  assert.ok(checked >= 10, `${checked} healthchecks checked`);
});

test('the checker itself refuses what a distroless or scratch image cannot run', () => {
  const loki = IMAGES['grafana/loki:3.7.2'];
  assert.ok(loki);
  const shellWget = healthcheckPrograms(['CMD-SHELL', 'wget -q --spider http://localhost:3100/ready || exit 1']);
  assert.deepEqual(shellWget, { needsShell: true, programs: ['wget'] });
  assert.ok(!loki.can.includes('sh') && !canRun(loki, 'wget'), 'the old Loki healthcheck would be refused');
  assert.ok(canRun(loki, '/usr/bin/loki'));
  const redisExporter = IMAGES['oliver006/redis_exporter:v1.83.0'];
  assert.ok(redisExporter && !canRun(redisExporter, 'wget'));
  const prometheus = IMAGES['prom/prometheus:v3.16.0'];
  assert.ok(prometheus && canRun(prometheus, '/bin/wget') && canRun(prometheus, 'wget'));
});

test('Loki, whose image has no shell, probes itself; Grafana and Promtail can wait for it', () => {
  const loki = services.find((s) => s.name === 'loki');
  assert.ok(loki);
  assert.deepEqual(loki.svc.healthcheck.test, ['CMD', '/usr/bin/loki', '-health']);
  for (const name of ['grafana', 'promtail']) {
    const svc = services.find((s) => s.name === name);
    assert.equal(svc?.svc.depends_on?.loki?.condition, 'service_healthy', `${name} waits for a healthy Loki`);
  }
});
