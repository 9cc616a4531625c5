import { JobName } from '@snapdeck/contracts';
import { DomainError, ErrorCode, HostState, InstanceState, JobStatus, VolumeState, VolumeType } from '@snapdeck/domain';
import { openTestDatabase } from '@snapdeck/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../database.js';
import type { HostEntity } from '../entities/host.entity.js';
import type { JobEntity } from '../entities/job.entity.js';
import type { VolumeEntity } from '../entities/volume.entity.js';
import type { PageRequest } from '../pagination.js';
import { ALL_ORGANIZATIONS, organizationScope } from '../scope.js';

/**
 * The conditional updates that "nothing lost, nothing stuck" rests on, run against a real PostgreSQL with
 * real concurrent transactions: who wins a transition, who delivers a job, who closes it, what the
 * reconciler finds, how hosts come and go, and how keyset pages walk a table.
 */

interface World {
  organizationId: string;
  environmentId: string;
  host: HostEntity;
}

let hostCounter = 0;

async function heartbeat(db: Database, hostName: string, at = new Date()): Promise<HostEntity> {
  return db.repos.hosts.recordHeartbeat({ hostName, driver: 'qemu-img', agentVersion: '0.1.0', at });
}

async function createWorld(db: Database, name = `org-${Date.now()}-${hostCounter}`): Promise<World> {
  const organization = await db.repos.organizations.create(name);
  const environment = await db.repos.environments.create(organization.id, 'production');
  const host = await heartbeat(db, `kvm-${++hostCounter}`);
  return { organizationId: organization.id, environmentId: environment.id, host };
}

async function createVolumes(
  db: Database,
  world: World,
  count: number,
  state = VolumeState.READY,
  hostId = world.host.id,
) {
  const instance = await db.repos.instances.create({
    organizationId: world.organizationId,
    environmentId: world.environmentId,
    hostId,
    name: `vm-${Math.random().toString(16).slice(2, 10)}`,
    state: InstanceState.STOPPED,
  });
  return db.repos.volumes.createMany(
    Array.from({ length: count }, (_, i) => ({
      organizationId: world.organizationId,
      environmentId: world.environmentId,
      instanceId: instance.id,
      hostId,
      name: i === 0 ? 'ROOT' : `DATA-${i}`,
      type: i === 0 ? VolumeType.ROOT : VolumeType.DATADISK,
      state,
      sizeGiB: 1,
    })),
  );
}

function createSnapshotJob(db: Database, world: World, volume: VolumeEntity): Promise<JobEntity> {
  return db.repos.jobs.create({
    organizationId: world.organizationId,
    type: JobName.CREATE_SNAPSHOT,
    hostId: world.host.id,
    resourceType: 'Snapshot',
    resourceId: volume.id,
    payload: { volumeId: volume.id, snapshotId: volume.id },
    createdByUserId: null,
  });
}

async function readJob(db: Database, id: string): Promise<JobEntity> {
  return (await db.repos.jobs.findForOrchestration(id))!;
}

/** Runs `work` in its own transaction and keeps the transaction (and so its row locks) open a little longer. */
function inTransaction<T>(db: Database, work: (tx: Database['repos']) => Promise<T>, holdMs = 25): Promise<T> {
  return db.transaction(async (tx) => {
    const result = await work(tx);
    await sleep(holdMs);
    return result;
  });
}

describe('conditional transitions and job delivery under real concurrency', () => {
  let db: Database;
  let close: () => Promise<void>;
  let world: World;

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase());
    world = await createWorld(db);
  });
  afterAll(() => close?.());

  it('lets exactly one of 20 concurrent READY→SNAPSHOTTING transactions win', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        inTransaction(db, (tx) => tx.volumes.transition(volume.id, [VolumeState.READY], VolumeState.SNAPSHOTTING)),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, volume.id))!.state).toBe(VolumeState.SNAPSHOTTING);
  });

  it('does not move a volume that is not in one of the expected states, and a rolled-back win leaves it as it was', async () => {
    const [volume] = await createVolumes(db, world, 1);
    expect(await db.repos.volumes.transition(volume.id, [VolumeState.SNAPSHOTTING], VolumeState.READY)).toBe(false);
    expect(await db.repos.volumes.transition(volume.id, [], VolumeState.SNAPSHOTTING)).toBe(false);
    await expect(
      db.transaction(async (tx) => {
        expect(await tx.volumes.transition(volume.id, [VolumeState.READY], VolumeState.SNAPSHOTTING)).toBe(true);
        throw new Error('quota exceeded, roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, volume.id))!.state).toBe(VolumeState.READY);
  });

  it('refuses, before any SQL, a move the state machine forbids, and the row stays where it was', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const instanceId = volume.instanceId!;
    // READY→READY and SNAPSHOTTING→REVERTING are not in volumeMachine; STOPPED→STOPPED not in instanceMachine.
    await expect(db.repos.volumes.transition(volume.id, [VolumeState.READY], VolumeState.READY)).rejects.toThrow(
      'Volume transition refused by its state machine: READY → READY is not in the table',
    );
    await expect(
      db.repos.volumes.transitionMany(
        [volume.id],
        [VolumeState.READY, VolumeState.SNAPSHOTTING],
        VolumeState.REVERTING,
      ),
    ).rejects.toThrow('Volume transition refused by its state machine: SNAPSHOTTING → REVERTING is not in the table');
    await expect(
      db.repos.instances.transition(instanceId, [InstanceState.RUNNING, InstanceState.STOPPED], InstanceState.STOPPED),
    ).rejects.toThrow('Instance transition refused by its state machine: STOPPED → STOPPED is not in the table');
    // Not a user's conflict: a programming error, which a client sees as INTERNAL_SERVER_ERROR.
    const refusal: unknown = await db.repos.volumes
      .transition(volume.id, [VolumeState.READY], VolumeState.READY)
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(Error);
    expect(refusal).not.toBeInstanceOf(DomainError);
    expect((await db.repos.volumes.findById(ALL_ORGANIZATIONS, volume.id))!.state).toBe(VolumeState.READY);
    expect((await db.repos.instances.findById(ALL_ORGANIZATIONS, instanceId))!.state).toBe(InstanceState.STOPPED);
    // The moves the table allows still go through the same helper.
    expect(await db.repos.instances.transition(instanceId, [InstanceState.STOPPED], InstanceState.RUNNING)).toBe(true);
    expect(await db.repos.volumes.transitionMany([volume.id], [VolumeState.READY], VolumeState.REVERTING)).toBe(1);
  });

  it('gives one delivery attempt to exactly one of two callers with the same expected attempt', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const job = await createSnapshotJob(db, world, volume);
    const lease = new Date(Date.now() + 60_000);
    const attempts = await Promise.all([
      inTransaction(db, (tx) => tx.jobs.beginDelivery(job.id, lease, 0)),
      inTransaction(db, (tx) => tx.jobs.beginDelivery(job.id, lease, 0)),
    ]);
    expect(attempts.filter((a) => a !== null)).toEqual([1]);
    expect(attempts.filter((a) => a === null)).toHaveLength(1);
    const row = await readJob(db, job.id);
    expect(row.attempt).toBe(1);
    expect(row.status).toBe(JobStatus.PENDING);
    expect(row.leaseExpiresAt?.getTime()).toBe(lease.getTime());

    // The next delivery expects attempt 1; a caller still holding attempt 0 gets nothing.
    expect(await db.repos.jobs.beginDelivery(job.id, lease, 0)).toBeNull();
    const many = await Promise.all(Array.from({ length: 10 }, () => db.repos.jobs.beginDelivery(job.id, lease, 1)));
    expect(many.filter((a) => a !== null)).toEqual([2]);
    expect((await readJob(db, job.id)).attempt).toBe(2);
  });

  it('marks a job RUNNING only for its current attempt', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const job = await createSnapshotJob(db, world, volume);
    const lease = new Date(Date.now() + 60_000);
    await db.repos.jobs.beginDelivery(job.id, lease, 0);
    await db.repos.jobs.beginDelivery(job.id, lease, 1);
    expect(await db.repos.jobs.markRunning(job.id, 1, lease, new Date())).toBe(false);
    expect((await readJob(db, job.id)).status).toBe(JobStatus.PENDING);
    expect(await db.repos.jobs.markRunning(job.id, 2, lease, new Date())).toBe(true);
    const row = await readJob(db, job.id);
    expect(row.status).toBe(JobStatus.RUNNING);
    expect(row.startedAt).not.toBeNull();
  });

  it('finishes a job once: a second finish returns false and changes nothing', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const job = await createSnapshotJob(db, world, volume);
    await db.repos.jobs.beginDelivery(job.id, new Date(Date.now() + 60_000), 0);
    const at = new Date('2026-11-22T10:00:00.000Z');
    expect(await db.repos.jobs.finish(job.id, JobStatus.SUCCEEDED, { snapshotId: 's' }, null, at)).toBe(true);
    const first = await readJob(db, job.id);
    expect(first.status).toBe(JobStatus.SUCCEEDED);
    expect(first.result).toEqual({ snapshotId: 's' });
    expect(first.finishedAt?.getTime()).toBe(at.getTime());
    expect(first.leaseExpiresAt).toBeNull();

    expect(await db.repos.jobs.finish(job.id, JobStatus.FAILED, null, 'late failure', new Date())).toBe(false);
    expect(await readJob(db, job.id)).toEqual(first);
    // A closed job is never delivered again, nor marked running.
    expect(await db.repos.jobs.beginDelivery(job.id, new Date(Date.now() + 60_000), 1)).toBeNull();
    expect(await db.repos.jobs.markRunning(job.id, 1, new Date(Date.now() + 60_000), new Date())).toBe(false);
    expect(await readJob(db, job.id)).toEqual(first);
  });

  it('finishes a job from an agent result only while its attempt is the current one', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const job = await createSnapshotJob(db, world, volume);
    await db.repos.jobs.beginDelivery(job.id, new Date(Date.now() + 60_000), 0);
    await db.repos.jobs.beginDelivery(job.id, new Date(Date.now() + 60_000), 1);
    expect(await db.repos.jobs.finish(job.id, JobStatus.SUCCEEDED, null, null, new Date(), 1)).toBe(false);
    expect(await readJob(db, job.id)).toMatchObject({ status: JobStatus.PENDING, attempt: 2 });
    expect(await db.repos.jobs.finish(job.id, JobStatus.SUCCEEDED, null, null, new Date(), 2)).toBe(true);
  });

  it('claims an unsent attempt again only once its claim lapsed, and once; a sent one never', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const job = await createSnapshotJob(db, world, volume);
    const now = Date.now();
    await db.repos.jobs.beginDelivery(job.id, new Date(now + 10_000), 0);
    expect(await db.repos.jobs.reclaimUnsent(job.id, 1, new Date(now + 30_000), new Date(now))).toBeNull();
    const lapsed = new Date(now + 11_000);
    const claims = await Promise.all(
      Array.from({ length: 5 }, () => db.repos.jobs.reclaimUnsent(job.id, 1, new Date(now + 21_000), lapsed)),
    );
    expect(claims.filter((c) => c === 1)).toHaveLength(1);
    expect(await db.repos.jobs.markSent(job.id, 1, new Date(now + 300_000), new Date())).toBe(true);
    const far = new Date(now + 10 ** 9);
    expect(await db.repos.jobs.reclaimUnsent(job.id, 1, far, far)).toBeNull();
    expect((await readJob(db, job.id)).sentAt).not.toBeNull();
  });

  it('closes a job once when ten transactions race to finish it', async () => {
    const [volume] = await createVolumes(db, world, 1);
    const job = await createSnapshotJob(db, world, volume);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        inTransaction(db, (tx) =>
          tx.jobs.finish(
            job.id,
            i % 2 ? JobStatus.FAILED : JobStatus.SUCCEEDED,
            null,
            i % 2 ? `error ${i}` : null,
            new Date(),
          ),
        ),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const row = await readJob(db, job.id);
    expect([JobStatus.SUCCEEDED, JobStatus.FAILED]).toContain(row.status);
    expect(row.error === null).toBe(row.status === JobStatus.SUCCEEDED);
  });
});

describe('JobRepository.findLapsed', () => {
  let db: Database;
  let close: () => Promise<void>;
  let world: World;

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase());
    world = await createWorld(db);
  });
  afterAll(() => close?.());

  it('returns open jobs whose lease ran out or that were never sent, oldest first, and never closed ones', async () => {
    const volumes = await createVolumes(db, world, 7);
    const [expired, running, neverSent, leased, succeeded, failedAfterLapse, runningLeased] = await Promise.all(
      volumes.map((v) => createSnapshotJob(db, world, v)),
    );
    const past = new Date(Date.now() - 60_000);
    const future = new Date(Date.now() + 600_000);

    expect(await db.repos.jobs.beginDelivery(expired.id, past, 0)).toBe(1);
    expect(await db.repos.jobs.beginDelivery(running.id, future, 0)).toBe(1);
    expect(await db.repos.jobs.markRunning(running.id, 1, past, new Date())).toBe(true);
    expect(await db.repos.jobs.beginDelivery(leased.id, future, 0)).toBe(1);
    expect(await db.repos.jobs.beginDelivery(succeeded.id, past, 0)).toBe(1);
    expect(await db.repos.jobs.finish(succeeded.id, JobStatus.SUCCEEDED, {}, null, new Date())).toBe(true);
    expect(await db.repos.jobs.beginDelivery(failedAfterLapse.id, past, 0)).toBe(1);
    expect(await db.repos.jobs.finish(failedAfterLapse.id, JobStatus.FAILED, null, 'host down', new Date())).toBe(true);
    expect(await db.repos.jobs.beginDelivery(runningLeased.id, past, 0)).toBe(1);
    expect(await db.repos.jobs.markRunning(runningLeased.id, 1, future, new Date())).toBe(true);

    const now = new Date(Date.now() + 1000);
    const lapsed = await db.repos.jobs.findLapsed(now, 100);
    const expectedIds = [expired.id, running.id, neverSent.id].sort();
    expect(lapsed.map((j) => j.id)).toEqual(expectedIds);
    for (const job of lapsed) expect([JobStatus.PENDING, JobStatus.RUNNING]).toContain(job.status);

    expect((await db.repos.jobs.findLapsed(now, 2)).map((j) => j.id)).toEqual(expectedIds.slice(0, 2));

    // Once the reconciler re-sends one with a fresh lease, it is no longer lapsed.
    expect(await db.repos.jobs.beginDelivery(expired.id, future, 1)).toBe(2);
    expect((await db.repos.jobs.findLapsed(now, 100)).map((j) => j.id)).toEqual([running.id, neverSent.id].sort());
  });
});

describe('HostRepository', () => {
  let db: Database;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ db, close } = await openTestDatabase());
  });
  afterEach(() => close?.());

  it('registers a host once by name: later beats keep the id, move the heartbeat forward only, and bring it UP', async () => {
    const t0 = new Date('2026-11-22T10:00:00.000Z');
    const first = await db.repos.hosts.recordHeartbeat({
      hostName: 'kvm-a',
      driver: 'qemu-img',
      agentVersion: '0.1.0',
      at: t0,
    });
    expect(first.state).toBe(HostState.UP);
    expect(first.lastHeartbeatAt.getTime()).toBe(t0.getTime());

    const t1 = new Date(t0.getTime() + 10_000);
    const again = await db.repos.hosts.recordHeartbeat({
      hostName: 'kvm-a',
      driver: 'simulator',
      agentVersion: '0.2.0',
      at: t1,
    });
    expect(again.id).toBe(first.id);
    expect(again.driver).toBe('simulator');
    expect(again.agentVersion).toBe('0.2.0');
    expect(again.lastHeartbeatAt.getTime()).toBe(t1.getTime());

    // A late, older beat (a queue may deliver out of order) does not move the heartbeat back.
    const late = await db.repos.hosts.recordHeartbeat({
      hostName: 'kvm-a',
      driver: 'simulator',
      agentVersion: '0.2.0',
      at: t0,
    });
    expect(late.id).toBe(first.id);
    expect(late.lastHeartbeatAt.getTime()).toBe(t1.getTime());

    const other = await db.repos.hosts.recordHeartbeat({
      hostName: 'kvm-b',
      driver: 'qemu-img',
      agentVersion: '0.1.0',
      at: t0,
    });
    expect(other.id).not.toBe(first.id);
    const page = await db.repos.hosts.list({ first: 100 });
    expect(page.items.map((h) => h.name).sort()).toEqual(['kvm-a', 'kvm-b']);
  });

  it('registers one host when its first beats race', async () => {
    const at = new Date();
    const hosts = await Promise.all(Array.from({ length: 10 }, () => heartbeat(db, 'kvm-race', at)));
    expect(new Set(hosts.map((h) => h.id)).size).toBe(1);
    expect(await (await db.repos.hosts.list({ first: 100 })).totalCount()).toBe(1);
  });

  it('marks hosts without a recent heartbeat DOWN, once, and a new beat brings one back UP', async () => {
    const now = Date.now();
    const stale = await heartbeat(db, 'kvm-stale', new Date(now - 120_000));
    const fresh = await heartbeat(db, 'kvm-fresh', new Date(now));
    const cutoff = new Date(now - 60_000);

    const down = await db.repos.hosts.markStaleHostsDown(cutoff);
    expect(down.map((h) => h.id)).toEqual([stale.id]);
    expect(down[0].state).toBe(HostState.DOWN);
    expect((await db.repos.hosts.findById(fresh.id))!.state).toBe(HostState.UP);
    // Already DOWN: a second pass (or a second api replica) changes nothing and reports nothing.
    expect(await db.repos.hosts.markStaleHostsDown(cutoff)).toEqual([]);

    const back = await heartbeat(db, 'kvm-stale', new Date(now));
    expect(back.id).toBe(stale.id);
    expect(back.state).toBe(HostState.UP);
    expect(await db.repos.hosts.markStaleHostsDown(cutoff)).toEqual([]);
  });

  it('places a new instance on the UP host with the fewest live volumes', async () => {
    expect(await db.repos.hosts.findLeastLoadedUpHost()).toBeNull();
    const world = await createWorld(db, 'placement');
    const busy = world.host;
    const light = await heartbeat(db, 'kvm-light');
    const idleButDown = await heartbeat(db, 'kvm-down', new Date(Date.now() - 120_000));
    await db.repos.hosts.markStaleHostsDown(new Date(Date.now() - 60_000));

    await createVolumes(db, world, 3, VolumeState.READY, busy.id);
    await createVolumes(db, world, 2, VolumeState.READY, light.id);
    // Volumes on their way out do not count as load.
    await createVolumes(db, world, 4, VolumeState.DESTROYING, light.id);
    expect((await db.repos.hosts.findLeastLoadedUpHost())!.id).toBe(light.id);

    await createVolumes(db, world, 2, VolumeState.SNAPSHOTTING, light.id);
    expect((await db.repos.hosts.findLeastLoadedUpHost())!.id).toBe(busy.id);

    // The DOWN host holds nothing but is never chosen; once it beats again it is the emptiest.
    expect((await db.repos.hosts.findById(idleButDown.id))!.state).toBe(HostState.DOWN);
    await heartbeat(db, 'kvm-down');
    expect((await db.repos.hosts.findLeastLoadedUpHost())!.id).toBe(idleButDown.id);
  });
});

describe('keyset pagination', () => {
  let db: Database;
  let close: () => Promise<void>;
  let world: World;
  let created: VolumeEntity[];

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase());
    world = await createWorld(db, 'paged');
    created = [];
    for (let i = 0; i < 45; i++) created.push(...(await createVolumes(db, world, 1)));
    // Another tenant's rows are neither listed nor counted.
    const other = await createWorld(db, 'other-tenant');
    await createVolumes(db, other, 5);
  });
  afterAll(() => close?.());

  it('walks 45 rows in pages of 20, newest first, each row exactly once', async () => {
    const scope = organizationScope(world.organizationId);
    const newestFirst = created.map((v) => v.id).reverse();
    const seen: string[] = [];
    const pages: Array<{ size: number; hasNextPage: boolean; hasPreviousPage: boolean }> = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page = await db.repos.volumes.list(scope, {}, { first: 20, after });
      expect(await page.totalCount()).toBe(45);
      pages.push({ size: page.items.length, hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage });
      seen.push(...page.items.map((v) => v.id));
      expect(page.startCursor).toBe(page.cursorOf(page.items[0]));
      expect(page.endCursor).toBe(page.cursorOf(page.items.at(-1)!));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(pages).toEqual([
      { size: 20, hasNextPage: true, hasPreviousPage: false },
      { size: 20, hasNextPage: true, hasPreviousPage: true },
      { size: 5, hasNextPage: false, hasPreviousPage: true },
    ]);
    expect(seen).toEqual(newestFirst);
    expect(new Set(seen).size).toBe(45);
  });

  it('walks the same 45 rows backwards with last/before: pages in list order, each row exactly once', async () => {
    const scope = organizationScope(world.organizationId);
    const newestFirst = created.map((v) => v.id).reverse();
    let seen: string[] = [];
    const pages: Array<{ size: number; hasNextPage: boolean; hasPreviousPage: boolean }> = [];
    let before: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page = await db.repos.volumes.list(scope, {}, { last: 20, before });
      pages.push({ size: page.items.length, hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage });
      // Each page is itself newest first; the earlier pages go in front.
      seen = [...page.items.map((v) => v.id), ...seen];
      if (!page.hasPreviousPage) break;
      before = page.startCursor;
    }
    expect(pages).toEqual([
      { size: 20, hasNextPage: false, hasPreviousPage: true },
      { size: 20, hasNextPage: true, hasPreviousPage: true },
      { size: 5, hasNextPage: true, hasPreviousPage: false },
    ]);
    expect(seen).toEqual(newestFirst);
  });

  it('goes back to the page it came from: last 20 before the second page is the first page', async () => {
    const scope = organizationScope(world.organizationId);
    const first = await db.repos.volumes.list(scope, {}, { first: 20 });
    const second = await db.repos.volumes.list(scope, {}, { first: 20, after: first.endCursor });
    const back = await db.repos.volumes.list(scope, {}, { last: 20, before: second.startCursor });
    expect(back.items.map((v) => v.id)).toEqual(first.items.map((v) => v.id));
    expect(back.hasPreviousPage).toBe(false);
    expect(back.hasNextPage).toBe(true);
    // Between two cursors: after and before together slice the list.
    const between = await db.repos.volumes.list(
      scope,
      {},
      { first: 100, after: first.startCursor, before: second.startCursor },
    );
    expect(between.items.map((v) => v.id)).toEqual(first.items.slice(1).map((v) => v.id));
  });

  it('answers an empty last page after the oldest row, and counts without fetching when first is 0', async () => {
    const scope = organizationScope(world.organizationId);
    const oldest = await db.repos.volumes.list(scope, {}, { last: 1 });
    expect(oldest.items.map((v) => v.id)).toEqual([created[0].id]);
    const afterOldest = await db.repos.volumes.list(scope, {}, { first: 20, after: oldest.endCursor });
    expect(afterOldest.items).toEqual([]);
    expect(afterOldest.hasNextPage).toBe(false);
    expect(afterOldest.hasPreviousPage).toBe(true);
    expect(afterOldest.endCursor).toBeNull();
    expect(afterOldest.startCursor).toBeNull();

    const none = await db.repos.volumes.list(scope, {}, { first: 0 });
    expect(none.items).toEqual([]);
    expect(await none.totalCount()).toBe(45);

    const all = await db.repos.volumes.list(ALL_ORGANIZATIONS, {}, { first: 100 });
    expect(await all.totalCount()).toBe(50);
  });

  it("refuses another list's cursor as BAD_USER_INPUT: another table, another filter, another tenant", async () => {
    const scope = organizationScope(world.organizationId);
    const volumeCursor = (await db.repos.volumes.list(scope, {}, { first: 1 })).endCursor!;
    const refusals: Array<[string, (page: PageRequest) => Promise<unknown>]> = [
      ['snapshots', (page) => db.repos.snapshots.list(scope, {}, page)],
      ['environments', (page) => db.repos.environments.list(scope, page)],
      [
        'volumes of one environment',
        (page) => db.repos.volumes.list(scope, { environmentId: world.environmentId }, page),
      ],
      ['all volumes', (page) => db.repos.volumes.list(ALL_ORGANIZATIONS, {}, page)],
    ];
    for (const [list, read] of refusals) {
      for (const page of [{ after: volumeCursor }, { last: 5, before: volumeCursor }]) {
        const error: unknown = await read(page).then(
          () => null,
          (e: unknown) => e,
        );
        expect([list, error]).toEqual([list, expect.any(DomainError)]);
        expect((error as DomainError).code).toBe(ErrorCode.BAD_USER_INPUT);
        expect((error as DomainError).message).toMatch(/cursor of another list/);
      }
    }
    // The same list takes it.
    expect((await db.repos.volumes.list(scope, {}, { after: volumeCursor })).items).toHaveLength(20);
  });

  it('refuses a bogus cursor or page size as BAD_USER_INPUT', async () => {
    const scope = organizationScope(world.organizationId);
    const bad = [
      { first: 20, after: 'not-a-cursor' },
      { first: 20, after: Buffer.from('123', 'utf8').toString('base64url') },
      { first: 101 },
      { first: -1 },
      { last: 101 },
      { last: -1 },
      { first: 5, last: 5 },
      { last: 5, before: 'not-a-cursor' },
    ];
    for (const request of bad) {
      const error: unknown = await db.repos.volumes.list(scope, {}, request).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe(ErrorCode.BAD_USER_INPUT);
    }
  });
});
