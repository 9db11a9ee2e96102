import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../testkit/server-process';
import { startManaged, type ManagedProcess } from './monitoring';
import { dockerDir } from './stack';

/** docker/otel-collector/: the configs Compose mounts at /etc/otelcol. */
export const collectorConfigDir = path.join(dockerDir, 'otel-collector');

export interface CollectorOptions {
  /** export/<name>.yaml: jaeger, elastic or aws. */
  exportTo: string;
  /** sampling/<name>.yaml: all or tail. */
  sampling: string;
  /** The variables the configs read (JAEGER_OTLP_ENDPOINT, TAIL_SAMPLING_*, ...). */
  env: Record<string, string>;
  /** YAML merged last, after the loopback ports: what a test changes beyond them. */
  extraConfig?: string;
}

export interface Collector {
  process: ManagedProcess;
  /** OTLP/HTTP base URL (4318 in Compose): what OTEL_EXPORTER_OTLP_ENDPOINT names. */
  otlpHttpUrl: string;
  /** Its own metrics (8888 in Compose), in the Prometheus text format. */
  metricsUrl: string;
  stop(): Promise<void>;
}

/** The three files Compose passes, in its order, as `--config` arguments. */
export function collectorConfigs(exportTo: string, sampling: string): string[] {
  return ['config.yaml', `export/${exportTo}.yaml`, `sampling/${sampling}.yaml`].map((f) => path.join(collectorConfigDir, f));
}

/**
 * The pinned collector (scripts/backends.sh otelcol) running the shipped files as Compose
 * merges them, plus one file of its own that moves every listener to a free loopback port.
 */
export async function startCollector(bin: string, options: CollectorOptions): Promise<Collector> {
  const [grpc, http, health, telemetry] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudmart-otelcol-'));
  const ports = path.join(dir, 'loopback.yaml');
  writeFileSync(
    ports,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      `      grpc: { endpoint: 127.0.0.1:${grpc} }`,
      `      http: { endpoint: 127.0.0.1:${http} }`,
      'extensions:',
      `  health_check: { endpoint: 127.0.0.1:${health} }`,
      'service:',
      '  telemetry:',
      `    metrics: { readers: [{ pull: { exporter: { prometheus: { host: 127.0.0.1, port: ${telemetry} } } } }] }`,
      '',
    ].join('\n'),
  );
  const files = [...collectorConfigs(options.exportTo, options.sampling), ports];
  if (options.extraConfig) {
    const extra = path.join(dir, 'extra.yaml');
    writeFileSync(extra, options.extraConfig);
    files.push(extra);
  }
  const process = await startManaged(
    bin,
    files.map((f) => `--config=${f}`),
    health,
    '/',
    options.env,
  );
  return {
    process,
    otlpHttpUrl: `http://127.0.0.1:${http}`,
    metricsUrl: `http://127.0.0.1:${telemetry}/metrics`,
    async stop() {
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
