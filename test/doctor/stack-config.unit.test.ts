/**
 * The doctor's map from Prometheus job to Compose service agrees with the files it stands
 * for: every job of prometheus.yml scrapes the service the map names, and that service's
 * profile in compose/ is the one the doctor tells a student to start.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JOB_SERVICE } from '../../scripts/lib/stack-config';
import { composeServices, readYaml, type Yaml } from '../helpers/stack';

test('each scrape job of prometheus.yml scrapes the Compose service the doctor names, under the profile it names', () => {
  const services = new Map(composeServices().map((s) => [s.name, s.svc]));
  const jobs: Yaml[] = readYaml('docker/prometheus/prometheus.yml').scrape_configs;
  assert.ok(jobs.length >= 10);
  for (const job of jobs) {
    const known = JOB_SERVICE[job.job_name];
    assert.ok(known, `the doctor knows job ${job.job_name}`);
    const hosts: string[] = [
      ...(job.static_configs ?? []).flatMap((c: Yaml) => c.targets.map((t: string) => t.split(':')[0])),
      ...(job.dns_sd_configs ?? []).flatMap((c: Yaml) => c.names),
    ];
    // Prometheus scrapes itself on localhost.
    for (const host of hosts) assert.equal(host === 'localhost' ? 'prometheus' : host, known.service, `job ${job.job_name} scrapes ${host}`);
    const svc = services.get(known.service);
    assert.ok(svc, `compose/ defines ${known.service}`);
    const profiles: string[] = svc.profiles ?? [];
    if (known.profile) assert.ok(profiles.includes(known.profile), `${known.service} is in profile ${known.profile}`);
    else assert.deepEqual(profiles, [], `${known.service} starts with the core set`);
  }
});
