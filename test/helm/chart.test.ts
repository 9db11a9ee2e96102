/**
 * The Helm chart (deploy/helm/cloudmart), checked with the real tools: `helm lint` and
 * `helm template` (Helm 4), the rendered manifests validated offline against the
 * Kubernetes schemas (kubernetes-validate) and the prometheus-operator CRDs (their
 * openAPIV3Schema, from the operator's Go module), the PrometheusRule's rules checked by
 * promtool and compared with docker/prometheus/rules (one source of truth). The in-chart
 * OpenTelemetry Collector is checked the same way: its ConfigMap against
 * docker/otel-collector/, its rendered config by `otelcol validate`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { loadConfig } from '../../src/config';
import { composeServices, dashboardsDir, dockerDir, memoryLimit, parseMemory, readText, repoRoot, ruleFiles, type Yaml } from '../helpers/stack';
import { findTool, requireTool, runTool } from '../helpers/tools';
import { underCI } from '../helpers/ci';

const chartDir = path.join(repoRoot, 'deploy', 'helm', 'cloudmart');
const DATABASE_URL = 'postgres://cloudmart:secret@postgres.db.svc:5432/cloudmart';
const BASE_SETS = [`secrets.DATABASE_URL=${DATABASE_URL}`, 'secrets.REDIS_URL=redis://redis.db.svc:6379'];

function pinned(name: string): string {
  const m = new RegExp(`^${name}=(.+)$`, 'm').exec(readText('tools/versions.env'));
  assert.ok(m?.[1], `tools/versions.env pins ${name}`);
  return m[1].trim();
}

function render(helm: string, sets: string[] = []): Yaml[] {
  const args = ['template', 'shop', chartDir, '--namespace', 'shop', ...[...BASE_SETS, ...sets].flatMap((s) => ['--set', s])];
  const res = runTool(helm, args);
  assert.equal(res.status, 0, res.output);
  return parseAllDocuments(res.stdout)
    .map((d) => d.toJS())
    .filter((d) => d);
}

const byKind = (docs: Yaml[], kind: string): Yaml[] => docs.filter((d) => d.kind === kind);
const one = (docs: Yaml[], kind: string): Yaml => {
  const found = byKind(docs, kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};
/** The one object of a kind that belongs to a component (backend, otel-collector). */
const ofComponent = (docs: Yaml[], kind: string, component: string): Yaml => {
  const found = byKind(docs, kind).filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component);
  assert.equal(found.length, 1, `one ${kind} of ${component}`);
  return found[0];
};
const backendConfig = (docs: Yaml[]): Yaml => byKind(docs, 'ConfigMap').find((m) => m.data?.PORT);
/** Whether a selector (matchLabels or a Service's selector) selects these labels. */
const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The CRD directory of the pinned prometheus-operator Go module, or null when it is not downloaded. */
function operatorCrdDir(): string | null {
  const go = findTool('go');
  const fromEnv = process.env.PROMETHEUS_OPERATOR_CRDS;
  if (fromEnv) return fromEnv;
  if (!go) return null;
  const modCache = execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  const dir = path.join(modCache, pinned('PROMETHEUS_OPERATOR_MODULE'), 'example', 'prometheus-operator-crd');
  return fs.existsSync(dir) ? dir : null;
}

/**
 * The schema with unknown fields rejected: the API server would silently prune them
 * (structural schemas), so a misspelt field would otherwise pass and do nothing.
 */
function closed(schema: Yaml): Yaml {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Yaml = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === 'properties' ? Object.fromEntries(Object.entries(v as Yaml).map(([pk, pv]) => [pk, closed(pv)])) : closed(v),
    ]),
  );
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields'])
    out.additionalProperties = false;
  return out;
}

/**
 * The CRDs' patterns are Go (RE2) syntax; the one construct JavaScript lacks is the
 * case-insensitive `(?i)` at the start, which becomes the `i` flag.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string): RegExp => {
    const m = /^(\^?)\(\?i\)(.*)$/s.exec(pattern);
    return m ? new RegExp(`${m[1] ?? ''}${m[2] ?? ''}`, `${flags}i`) : new RegExp(pattern, flags);
  },
  { code: 'new RegExp' },
);

test('the chart reads the rules and dashboards through symlinks to docker/: one source of truth', () => {
  for (const [link, target] of [
    ['files/rules', path.join(dockerDir, 'prometheus', 'rules')],
    ['files/dashboards', dashboardsDir],
  ] as const) {
    const p = path.join(chartDir, link);
    assert.ok(fs.lstatSync(p).isSymbolicLink(), `${link} is a symlink, not a copy`);
    assert.equal(fs.realpathSync(p), fs.realpathSync(target));
  }
});

test('helm lint passes (strict)', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const res = runTool(helm, ['lint', '--strict', chartDir, ...BASE_SETS.flatMap((s) => ['--set', s])]);
  assert.equal(res.status, 0, res.output);
  assert.match(res.output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('helm template: every resource, the Deployment hardened, probed and shut down as the service does', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const docs = render(helm, ['otlp.endpoint=http://otel-gateway.observability:4318', 'otlp.resourceAttributes=service.namespace=shop']);
  const kinds = docs.map((d) => d.kind).sort();
  for (const k of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceAccount', 'Secret', 'ServiceMonitor', 'PrometheusRule']) {
    assert.ok(kinds.includes(k), `renders a ${k}`);
  }
  assert.ok(!kinds.includes('Ingress'), 'no Ingress unless enabled');
  assert.ok(
    docs.every((d) => d.metadata.labels?.['app.kubernetes.io/component'] !== 'otel-collector'),
    'an explicit otlp.endpoint wins: no in-chart collector',
  );

  const deploy = one(docs, 'Deployment');
  const pod = deploy.spec.template.spec;
  const [c] = pod.containers;
  assert.equal(deploy.spec.replicas, undefined, 'the HPA owns the replica count');
  assert.equal(c.startupProbe.httpGet.path, '/health');
  assert.equal(c.livenessProbe.httpGet.path, '/health');
  assert.equal(c.readinessProbe.httpGet.path, '/health/ready');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 1000);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  assert.ok(c.resources.requests.cpu && c.resources.limits.memory, 'requests and a memory limit');
  assert.ok(
    c.volumeMounts.some((m: Yaml) => m.mountPath === '/tmp'),
    'a writable /tmp beside the read-only root',
  );

  // Shutdown: the service's own deadline (src/config.ts default), after the preStop sleep, within the grace period.
  const configMap = byKind(docs, 'ConfigMap').find((m) => m.data?.PORT);
  const serviceDefault = loadConfig({}).shutdownTimeoutMs;
  assert.equal(Number(configMap.data.SHUTDOWN_TIMEOUT_MS), serviceDefault, 'the chart passes the service default');
  const preStop = Number(c.lifecycle.preStop.exec.command[1]);
  assert.ok(preStop > 0);
  assert.ok(
    pod.terminationGracePeriodSeconds >= preStop + serviceDefault / 1000 + 1,
    `grace ${pod.terminationGracePeriodSeconds}s covers preStop ${preStop}s + shutdown ${serviceDefault / 1000}s`,
  );
  assert.equal(deploy.spec.strategy.rollingUpdate.maxUnavailable, 0);

  // OTLP from values; pod, namespace and node from the downward API.
  assert.equal(configMap.data.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-gateway.observability:4318');
  const env = new Map<string, Yaml>(c.env.map((e: Yaml) => [e.name, e]));
  assert.equal(env.get('K8S_POD_NAME').valueFrom.fieldRef.fieldPath, 'metadata.name');
  assert.equal(env.get('K8S_NAMESPACE_NAME').valueFrom.fieldRef.fieldPath, 'metadata.namespace');
  assert.equal(env.get('K8S_NODE_NAME').valueFrom.fieldRef.fieldPath, 'spec.nodeName');
  assert.equal(
    env.get('OTEL_RESOURCE_ATTRIBUTES').value,
    'k8s.pod.name=$(K8S_POD_NAME),k8s.namespace.name=$(K8S_NAMESPACE_NAME),k8s.node.name=$(K8S_NODE_NAME),service.namespace=shop',
  );
  const names = c.env.map((e: Yaml) => e.name);
  assert.ok(names.indexOf('OTEL_RESOURCE_ATTRIBUTES') > names.indexOf('K8S_NODE_NAME'), '$(VAR) only expands variables defined before it');

  // Postgres and Redis by URL, in the Secret the pod reads.
  const secret = one(docs, 'Secret');
  assert.equal(secret.stringData.DATABASE_URL, DATABASE_URL);
  assert.ok(c.envFrom.some((e: Yaml) => e.secretRef?.name === secret.metadata.name));

  // Prometheus sees job="backend", as the shared rules expect.
  const svc = one(docs, 'Service');
  const sm = one(docs, 'ServiceMonitor');
  assert.equal(svc.metadata.labels[sm.spec.jobLabel], 'backend');
  assert.equal(sm.spec.endpoints[0].port, svc.spec.ports[0].name);
  assert.equal(sm.spec.endpoints[0].path, '/metrics');

  const pdb = one(docs, 'PodDisruptionBudget');
  assert.deepEqual(pdb.spec.selector.matchLabels, deploy.spec.selector.matchLabels);
  assert.equal(one(docs, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name, deploy.metadata.name);
});

test('helm template: optional Ingress, fixed replicas without the HPA, no Secret with existingSecret, DATABASE_URL required', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const docs = render(helm, ['ingress.enabled=true', 'ingress.className=nginx', 'autoscaling.enabled=false', 'replicaCount=3', 'collector.enabled=false']);
  const ingress = one(docs, 'Ingress');
  assert.equal(ingress.spec.ingressClassName, 'nginx');
  assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, one(docs, 'Service').metadata.name);
  const paths = (ingress.spec.rules[0].http.paths as { path: string }[]).map((p) => p.path);
  assert.deepEqual(paths, ['/api', '/health'], 'the Ingress routes the API and health checks, not /metrics');
  assert.equal(one(docs, 'Deployment').spec.replicas, 3);
  const config = byKind(docs, 'ConfigMap').find((m) => m.data?.PORT);
  assert.equal(config.data.OTEL_SDK_DISABLED, 'true', 'no OTLP endpoint and no collector: tracing off instead of retrying localhost');
  assert.equal(config.data.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
  assert.equal(byKind(docs, 'HorizontalPodAutoscaler').length, 0);

  const external = render(helm, ['existingSecret=cloudmart-db']);
  assert.equal(byKind(external, 'Secret').length, 0);
  assert.ok(ofComponent(external, 'Deployment', 'backend').spec.template.spec.containers[0].envFrom.some((e: Yaml) => e.secretRef?.name === 'cloudmart-db'));

  const res = runTool(helm, ['template', 'shop', chartDir]);
  assert.notEqual(res.status, 0);
  assert.match(res.output, /secrets\.DATABASE_URL is required/);
});

test('the PrometheusRule carries exactly the Compose rules, and promtool accepts them', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const rule = one(render(helm), 'PrometheusRule');
  const compose = ruleFiles().flatMap((f) => parseYaml(fs.readFileSync(f, 'utf8')).groups);
  assert.deepEqual(rule.spec.groups, compose);
  const promtool = requireTool('promtool', t);
  if (!promtool) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-helm-rules-'));
  try {
    const file = path.join(tmp, 'prometheusrule.yml');
    fs.writeFileSync(file, stringifyYaml({ groups: rule.spec.groups }));
    const res = runTool(promtool, ['check', 'rules', file]);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /SUCCESS/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the dashboards ship as Grafana sidecar ConfigMaps, byte for byte', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const maps = byKind(render(helm), 'ConfigMap').filter((m) => m.metadata.labels.grafana_dashboard === '1');
  const files = fs
    .readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.deepEqual(maps.map((m) => Object.keys(m.data)[0]).sort(), files);
  for (const m of maps) {
    const [name, text] = Object.entries<string>(m.data)[0] ?? ['', ''];
    assert.equal(text, fs.readFileSync(path.join(dashboardsDir, name), 'utf8').replace(/\n$/, ''), `${name} unchanged`);
  }
});

test('rendered manifests validate against the Kubernetes schemas (kubernetes-validate --strict)', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const validator = requireTool('kubernetes-validate', t);
  if (!validator) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-helm-k8s-'));
  try {
    // The default values deploy the collector; the second set its other files.
    const docs = [...render(helm, ['ingress.enabled=true']), ...byKind(render(helm, ['collector.export=elastic', 'collector.sampling=tail']), 'Deployment')];
    assert.ok(docs.some((d) => d.kind === 'Deployment' && d.metadata.labels['app.kubernetes.io/component'] === 'otel-collector'));
    const core = docs.filter((d) => !String(d.apiVersion).startsWith('monitoring.coreos.com/'));
    const files = core.map((d, i) => {
      const f = path.join(tmp, `${i}-${d.kind}.yaml`);
      fs.writeFileSync(f, stringifyYaml(d));
      return f;
    });
    const res = runTool(validator, ['--strict', '--kubernetes-version', pinned('KUBERNETES_SCHEMA_VERSION'), ...files]);
    assert.equal(res.status, 0, res.output);
    assert.equal((res.output.match(/ passed for resource /g) ?? []).length, files.length, res.output);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the ServiceMonitor and PrometheusRule validate against the prometheus-operator CRD schemas', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const dir = operatorCrdDir();
  if (!dir) {
    const message = `prometheus-operator CRDs not found (go mod download ${pinned('PROMETHEUS_OPERATOR_MODULE')})`;
    if (underCI()) throw new Error(`${message}; CI requires them`);
    t.skip(message);
    return;
  }
  const docs = render(helm);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });
  // The backend's and the collector's ServiceMonitor, and the PrometheusRule.
  assert.equal(byKind(docs, 'ServiceMonitor').length, 2);
  for (const [kind, file] of [
    ['ServiceMonitor', 'monitoring.coreos.com_servicemonitors.yaml'],
    ['PrometheusRule', 'monitoring.coreos.com_prometheusrules.yaml'],
  ] as const) {
    const crd: Yaml = parseYaml(fs.readFileSync(path.join(dir, file), 'utf8'));
    for (const doc of byKind(docs, kind)) {
      const version: Yaml = crd.spec.versions.find((v: Yaml) => `${crd.spec.group}/${v.name}` === doc.apiVersion);
      assert.ok(version?.served, `${kind} ${doc.apiVersion} is served by the CRD`);
      const validate = ajv.compile(closed(version.schema.openAPIV3Schema));
      assert.ok(validate(doc), `${kind} ${doc.metadata.name}: ${ajv.errorsText(validate.errors)}`);
    }
  }
});

// ------------------------------------------------------- the in-chart collector

const collectorDir = path.join(dockerDir, 'otel-collector');

/** The collector's Deployment, Service, ConfigMap and container of a render. */
function collectorOf(docs: Yaml[]) {
  const deploy = ofComponent(docs, 'Deployment', 'otel-collector');
  const [c] = deploy.spec.template.spec.containers;
  return {
    deploy,
    pod: deploy.spec.template.spec,
    c,
    svc: ofComponent(docs, 'Service', 'otel-collector'),
    configMap: ofComponent(docs, 'ConfigMap', 'otel-collector'),
    env: new Map<string, string>(c.env.map((e: Yaml) => [e.name, e.value])),
  };
}

/** Each file the pod reads under /etc/otelcol, by the ConfigMap key the volume maps to it. */
function mountedFiles(pod: Yaml, c: Yaml): Map<string, string> {
  const mount = c.volumeMounts.find((m: Yaml) => m.mountPath === '/etc/otelcol');
  assert.ok(mount, 'the config is mounted where the args read it');
  const volume = pod.volumes.find((v: Yaml) => v.name === mount.name);
  return new Map((volume.configMap.items as Yaml[]).map((i) => [i.path, i.key]));
}

test('the chart reads the collector config through a symlink to docker/otel-collector/, its Dockerfile left out', () => {
  const p = path.join(chartDir, 'files', 'otel-collector');
  assert.ok(fs.lstatSync(p).isSymbolicLink(), 'files/otel-collector is a symlink, not a copy');
  assert.equal(fs.realpathSync(p), fs.realpathSync(collectorDir));
  assert.match(readText('deploy/helm/cloudmart/.helmignore'), /^files\/otel-collector\/Dockerfile$/m);
});

test('collector on (the default): the pods send to it, it runs the shipped files byte for byte, probed on the health port', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const docs = render(helm, ['collector.jaegerEndpoint=jaeger-collector.observability:4317']);
  const { deploy, pod, c, svc, configMap, env } = collectorOf(docs);

  // The backend's one endpoint: the collector's Service, OTLP/HTTP as in Compose.
  const config = backendConfig(docs);
  assert.equal(config.data.OTEL_EXPORTER_OTLP_ENDPOINT, `http://${svc.metadata.name}:4318`);
  assert.equal(config.data.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf');
  assert.equal(config.data.OTEL_SDK_DISABLED, undefined);
  const http = svc.spec.ports.find((p: Yaml) => p.port === 4318);
  assert.equal(c.ports.find((p: Yaml) => p.name === http.targetPort)?.containerPort, 4318);
  assert.equal(env.get('JAEGER_OTLP_ENDPOINT'), 'jaeger-collector.observability:4317');

  // Its selectors and the backend's never cross: the backend's Service, Deployment, PDB and
  // ServiceMonitor match name and instance only.
  const podLabels = deploy.spec.template.metadata.labels;
  const backend = ofComponent(docs, 'Deployment', 'backend');
  const backendPodLabels = backend.spec.template.metadata.labels;
  assert.ok(selects(svc.spec.selector, podLabels) && selects(deploy.spec.selector.matchLabels, podLabels));
  assert.ok(!selects(svc.spec.selector, backendPodLabels) && !selects(deploy.spec.selector.matchLabels, backendPodLabels));
  for (const sel of [
    backend.spec.selector.matchLabels,
    ofComponent(docs, 'Service', 'backend').spec.selector,
    one(docs, 'PodDisruptionBudget').spec.selector.matchLabels,
    ofComponent(docs, 'ServiceMonitor', 'backend').spec.selector.matchLabels,
  ]) {
    assert.ok(!selects(sel, podLabels), `backend selector ${JSON.stringify(sel)} leaves the collector alone`);
    assert.ok(!selects(sel, svc.metadata.labels));
  }

  // The files Compose passes, in its order, each the shipped file byte for byte.
  assert.deepEqual(c.args, ['--config=/etc/otelcol/config.yaml', '--config=/etc/otelcol/export/jaeger.yaml', '--config=/etc/otelcol/sampling/all.yaml']);
  const mounted = mountedFiles(pod, c);
  for (const arg of c.args as string[]) {
    const rel = arg.replace('--config=/etc/otelcol/', '');
    const key = mounted.get(rel);
    assert.ok(key, `${rel} is mounted`);
    assert.equal(configMap.data[key], fs.readFileSync(path.join(collectorDir, rel), 'utf8'), `${rel} byte for byte`);
  }
  assert.equal(Object.keys(configMap.data).length, 3, 'only the chosen files');
  assert.equal(deploy.spec.template.metadata.annotations['checksum/config']?.length, 64, 'a changed config rolls the collector');

  // Probed on the health_check extension's port (config.yaml), by httpGet: nothing needed in the image.
  const shipped = parseYaml(fs.readFileSync(path.join(collectorDir, 'config.yaml'), 'utf8'));
  const healthPort = Number(String(shipped.extensions.health_check.endpoint).split(':').pop());
  assert.equal(healthPort, 13133);
  for (const probe of [c.livenessProbe, c.readinessProbe]) {
    assert.equal(probe.httpGet.path, '/');
    assert.equal(c.ports.find((p: Yaml) => p.name === probe.httpGet.port)?.containerPort, healthPort);
  }

  // The upstream image at the release Compose's image is built from; hardened like the backend;
  // the memory limit Compose gives it (the memory_limiter works from it).
  assert.equal(c.image, `otel/opentelemetry-collector-contrib:${pinned('OTELCOL_VERSION')}`);
  assert.equal(composeServices().find((x) => x.name === 'otel-collector')?.svc.image, `cloudmart/otel-collector:${pinned('OTELCOL_VERSION')}`);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  const composeLimit = memoryLimit(composeServices().find((x) => x.name === 'otel-collector')?.svc);
  assert.equal(parseMemory(String(c.resources.limits.memory).replace(/i$/, '')), composeLimit, 'the memory limit of compose/app.yaml');

  // Prometheus: job="otel-collector" on the metrics port, as Compose's job of that name.
  const sm = ofComponent(docs, 'ServiceMonitor', 'otel-collector');
  assert.equal(svc.metadata.labels[sm.spec.jobLabel], 'otel-collector');
  const composeJob = parseYaml(readText('docker/prometheus/prometheus.yml')).scrape_configs.find((j: Yaml) => j.job_name === 'otel-collector');
  const composePort = Number(String(composeJob.static_configs[0].targets[0]).split(':')[1]);
  const metrics = svc.spec.ports.find((p: Yaml) => p.name === sm.spec.endpoints[0].port);
  assert.equal(metrics.port, composePort);
  assert.equal(
    c.ports.find((p: Yaml) => p.name === metrics.targetPort)?.containerPort,
    shipped.service.telemetry.metrics.readers[0].pull.exporter.prometheus.port,
  );
  assert.ok(!selects(sm.spec.selector.matchLabels, ofComponent(docs, 'Service', 'backend').metadata.labels));
});

test('collector variants: export and sampling files, off, an explicit otlp.endpoint, and what the chart refuses', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const docs = render(helm, [
    'collector.export=elastic',
    'collector.sampling=tail',
    'collector.tailSampling.percent=25',
    'collector.apmServerUrl=http://apm.observability:8200',
  ]);
  const { pod, c, configMap, env } = collectorOf(docs);
  assert.deepEqual(c.args, ['--config=/etc/otelcol/config.yaml', '--config=/etc/otelcol/export/elastic.yaml', '--config=/etc/otelcol/sampling/tail.yaml']);
  const mounted = mountedFiles(pod, c);
  for (const rel of ['config.yaml', 'export/elastic.yaml', 'sampling/tail.yaml']) {
    assert.equal(configMap.data[mounted.get(rel) ?? ''], fs.readFileSync(path.join(collectorDir, rel), 'utf8'), `${rel} byte for byte`);
  }
  // Every variable these files read (outside comments) is set in the pod.
  for (const rel of mounted.keys()) {
    const active = fs.readFileSync(path.join(collectorDir, rel), 'utf8').replace(/^\s*#.*$/gm, '');
    for (const m of active.matchAll(/\$\{env:([A-Z][A-Z0-9_]*)/g)) {
      assert.ok(env.get(m[1] ?? ''), `${rel} reads ${m[1]}, set in the pod`);
    }
  }
  assert.equal(env.get('TAIL_SAMPLING_PERCENT'), '25');
  assert.equal(env.get('ELASTIC_APM_SERVER_URL'), 'http://apm.observability:8200');

  // Off: no collector objects, tracing off unless otlp.endpoint is set.
  const off = render(helm, ['collector.enabled=false']);
  assert.ok(off.every((d) => d.metadata.labels?.['app.kubernetes.io/component'] !== 'otel-collector'));
  assert.equal(backendConfig(off).data.OTEL_SDK_DISABLED, 'true');
  // An explicit otlp.endpoint wins over the collector (the meaning it had before the collector).
  const explicit = render(helm, ['otlp.endpoint=http://otel-gateway.observability:4318']);
  assert.equal(backendConfig(explicit).data.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-gateway.observability:4318');
  assert.equal(byKind(explicit, 'Deployment').length, 1);
  // No ServiceMonitor for it when the backend's is off.
  assert.equal(byKind(render(helm, ['monitoring.serviceMonitor.enabled=false']), 'ServiceMonitor').length, 0);

  const refused = (sets: string[], re: RegExp) => {
    const res = runTool(helm, ['template', 'shop', chartDir, ...[...BASE_SETS, ...sets].flatMap((x) => ['--set', x])]);
    assert.notEqual(res.status, 0, sets.join(' '));
    assert.match(res.output, re);
  };
  refused(['collector.export=aws'], /collector\.export=aws is Compose-only/);
  refused(['collector.export=tempo'], /collector\.export=tempo: docker\/otel-collector\/export\/ has no tempo\.yaml/);
  refused(['collector.sampling=head'], /collector\.sampling=head: docker\/otel-collector\/sampling\/ has no head\.yaml/);
  refused(['collector.sampling=tail', 'collector.replicaCount=2'], /tail sampling decides per trace/);
  // Several replicas are fine while every trace is kept.
  assert.equal(collectorOf(render(helm, ['collector.replicaCount=2'])).deploy.spec.replicas, 2);
});

test('otelcol validate accepts the rendered collector config as the pod reads it', (t) => {
  const helm = requireTool('helm', t);
  if (!helm) return;
  const otelcol = requireTool('otelcol', t);
  if (!otelcol) return;
  for (const sets of [[], ['collector.export=elastic', 'collector.sampling=tail']]) {
    const { pod, c, configMap, env } = collectorOf(render(helm, sets));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-helm-otelcol-'));
    try {
      for (const [rel, key] of mountedFiles(pod, c)) {
        fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
        fs.writeFileSync(path.join(tmp, rel), configMap.data[key]);
      }
      const args = (c.args as string[]).map((a) => a.replace('/etc/otelcol', tmp));
      const res = runTool(otelcol, ['validate', ...args], { env: Object.fromEntries(env) });
      assert.equal(res.status, 0, `${sets.join(' ')}: ${res.output}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
});
