import { jest } from '@jest/globals';
import { loadApiConfig } from '@snapdeck/config';
import type { Database } from '@snapdeck/persistence';
import type { Clock } from './clock.js';
import type { PolicyRetentionPass } from './policy-retention-pass.js';
import type { PolicyRunner } from './policy-runner.js';
import { PolicyScheduler } from './policy-scheduler.service.js';
import { PolicyWakeups } from './policy-wakeups.js';

/** When the scheduler wakes: fake timers and a database that only answers the earliest due time. */
describe('PolicyScheduler', () => {
  let earliest: Date | null;
  let runs: number[];
  let wakeups: PolicyWakeups;
  let scheduler: PolicyScheduler;
  const clock: Clock = { now: () => new Date() };

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'], now: new Date('2030-01-01T00:00:00Z') });
    earliest = null;
    runs = [];
    wakeups = new PolicyWakeups();
    const db = { repos: { snapshotPolicies: { earliestDue: () => Promise.resolve(earliest) } } } as unknown as Database;
    const runner = {
      runDue: () => {
        runs.push(Date.now());
        return Promise.resolve(0);
      },
    } as unknown as PolicyRunner;
    const retention = { pruneAll: () => Promise.resolve(0) } as unknown as PolicyRetentionPass;
    const config = loadApiConfig({ POLICY_POLL_INTERVAL_MS: '1000', POLICY_PRUNE_INTERVAL_SECONDS: '60' });
    scheduler = new PolicyScheduler(db, runner, retention, wakeups, config, clock);
  });

  afterEach(async () => {
    await scheduler.beforeApplicationShutdown();
    jest.useRealTimers();
  });

  it('idle, it only polls: no run', async () => {
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(runs).toEqual([]);
  });

  it('runs at the due time a poll found, to the millisecond of its timer, not at the next poll', async () => {
    earliest = new Date('2030-01-01T00:00:01.400Z');
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1_399);
    expect(runs).toEqual([]);
    earliest = null; // the run moved it on
    await jest.advanceTimersByTimeAsync(2);
    expect(runs).toEqual([new Date('2030-01-01T00:00:01.400Z').getTime()]);
  });

  it('runs at once for what is due at start (catch-up), and for a policy changed on this replica', async () => {
    earliest = new Date('2029-12-31T23:00:00Z');
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(1);
    earliest = null;
    wakeups.nextRunChanged(new Date('2030-01-01T00:00:00.300Z'));
    await jest.advanceTimersByTimeAsync(298); // 1 ms had passed: 299 ms to go
    expect(runs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([
      new Date('2030-01-01T00:00:00.000Z').getTime(),
      new Date('2030-01-01T00:00:00.300Z').getTime(),
    ]);
  });

  it('a due time a year away starts nothing early (no timer that setTimeout would overflow)', async () => {
    earliest = new Date('2031-01-01T00:00:00Z');
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(runs).toEqual([]);
  });

  it('does nothing when disabled by POLICY_SCHEDULER_ENABLED=false', async () => {
    const db = {
      repos: { snapshotPolicies: { earliestDue: () => Promise.resolve(new Date(0)) } },
    } as unknown as Database;
    const runner = { runDue: () => Promise.resolve(runs.push(Date.now())) } as unknown as PolicyRunner;
    const off = new PolicyScheduler(
      db,
      runner,
      { pruneAll: () => Promise.resolve(0) } as unknown as PolicyRetentionPass,
      new PolicyWakeups(),
      loadApiConfig({ POLICY_SCHEDULER_ENABLED: 'false' }),
      clock,
    );
    off.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(runs).toEqual([]);
  });
});
