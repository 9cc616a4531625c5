import { Logger } from '@nestjs/common';
import { JobName } from '@snapdeck/contracts';
import { HostState, JobStatus } from '@snapdeck/domain';
import type { Database } from '@snapdeck/persistence';
import { ApiMetrics } from './api-metrics.js';
import type { JobDispatcher } from '../orchestration/job-dispatcher.js';

function metricsWith(snapshots: () => Promise<Map<string, number>>): ApiMetrics {
  const db = {
    repos: {
      hosts: {
        countByState: () => Promise.resolve(new Map([[HostState.UP, 2]])),
        list: () =>
          Promise.resolve({ items: [{ name: 'kvm-a' }, { name: 'kvm-b' }], hasNextPage: false, endCursor: null }),
      },
      snapshots: { countByState: snapshots },
    },
  } as unknown as Database;
  const queues = {
    pendingDeliveries: (host: string) => Promise.resolve(host === 'kvm-a' ? 3 : 0),
  } as unknown as JobDispatcher;
  return new ApiMetrics(db, queues);
}

describe('ApiMetrics', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  it('computes the gauges at scrape time, every state with a series, and records job durations', async () => {
    const metrics = metricsWith(() => Promise.resolve(new Map([['COMPLETED', 5]])));
    metrics.observeJob(JobName.CREATE_SNAPSHOT, JobStatus.SUCCEEDED, new Date(1000), new Date(3500));
    const { body, contentType } = await metrics.scrape();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain('snapdeck_hosts{state="UP"} 2');
    expect(body).toContain('snapdeck_hosts{state="DOWN"} 0');
    expect(body).toContain('snapdeck_snapshots{state="COMPLETED"} 5');
    expect(body).toContain('snapdeck_snapshots{state="ERROR"} 0');
    expect(body).toContain('snapdeck_queue_depth{host="kvm-a"} 3');
    expect(body).toContain('snapdeck_queue_depth{host="kvm-b"} 0');
    expect(body).toContain('snapdeck_job_duration_seconds_sum{type="create-snapshot",status="SUCCEEDED"} 2.5');
    expect(body).toContain('snapdeck_job_duration_seconds_count{type="create-snapshot",status="SUCCEEDED"} 1');
  });

  it('leaves a gauge empty when its source fails instead of failing the whole scrape', async () => {
    const metrics = metricsWith(() => Promise.reject(new Error('connection refused')));
    const { body } = await metrics.scrape();
    expect(body).not.toMatch(/^snapdeck_snapshots\{/m);
    expect(body).toContain('snapdeck_hosts{state="UP"} 2');
  });

  it('keeps each app on its own registry', async () => {
    const first = metricsWith(() => Promise.resolve(new Map()));
    const second = metricsWith(() => Promise.resolve(new Map()));
    first.observeGraphqlRequest('createSnapshot', 'success', 0.01);
    expect((await first.scrape()).body).toContain(
      'snapdeck_graphql_request_duration_seconds_count{operation="createSnapshot",outcome="success"} 1',
    );
    expect((await second.scrape()).body).not.toContain('operation="createSnapshot"');
  });
});
