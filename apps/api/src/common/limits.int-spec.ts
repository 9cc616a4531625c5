import { loadApiConfig } from '@snapdeck/config';
import {
  DEFAULT_INSTANCE_SIZE,
  DomainError,
  ErrorCode,
  InstanceState,
  Role,
  SnapshotState,
  VolumeState,
  VolumeType,
} from '@snapdeck/domain';
import type { Database, HostEntity, Repositories } from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import type { Principal } from '../auth/principal.js';
import { ProvisioningService, type PlannedVolume } from '../provisioning/provisioning.service.js';
import { enforceLimits } from './limits.js';

/**
 * Limits and placement on a real PostgreSQL with real concurrent transactions: what is locked (and what is
 * not), how usage is counted, and that neither a limit nor a host's capacity is ever passed under concurrency.
 */
describe('limits and placement (PostgreSQL)', () => {
  let db: Database;
  let close: () => Promise<void>;
  let organizationId: string;
  let environmentId: string;
  let principal: Principal;
  let counter = 0;

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase());
    const organization = await db.repos.organizations.create('limits');
    organizationId = organization.id;
    environmentId = (await db.repos.environments.create(organizationId, 'production')).id;
    const user = await db.repos.users.create(organizationId, 'member@limits.test', Role.MEMBER);
    principal = { userId: user.id, email: user.email, organizationId, role: Role.MEMBER };
  });
  afterAll(() => close?.());

  /** Advisory locks and organization row locks this transaction's backend holds. */
  async function locksHeld(tx: Repositories): Promise<{ advisory: number; organizationRows: number }> {
    // The repositories do not expose raw SQL; the organizations repository's manager is the transaction's.
    const manager = (tx.organizations as unknown as { manager: { query: (sql: string) => Promise<unknown[]> } })
      .manager;
    const rows = (await manager.query(
      `SELECT l.locktype, c.relname FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
       WHERE l.pid = pg_backend_pid() AND l.granted
         AND (l.locktype = 'advisory' OR (c.relname = 'organizations' AND l.mode = 'RowShareLock'))`,
    )) as Array<{ locktype: string; relname: string | null }>;
    return {
      advisory: rows.filter((r) => r.locktype === 'advisory').length,
      organizationRows: rows.filter((r) => r.relname === 'organizations').length,
    };
  }

  async function host(totalGiB: number | null): Promise<HostEntity> {
    return db.repos.hosts.recordHeartbeat({
      hostName: `kvm-${++counter}`,
      driver: 'simulator',
      agentVersion: 't',
      at: new Date(),
      storage: totalGiB === null ? null : { totalBytes: totalGiB * 1024 ** 3, freeBytes: totalGiB * 1024 ** 3 },
    });
  }

  it('an organization without a limit on a resource takes no lock for it; one with a limit takes one', async () => {
    await db.repos.organizations.setLimits(organizationId, { snapshots: null, snapshotGiB: null, instances: null });
    const unlimited = await db.transaction(async (tx) => {
      await enforceLimits(tx, organizationId, { snapshots: 1, snapshotGiB: 5 }, { actor: 'system:scheduler' });
      return locksHeld(tx);
    });
    expect(unlimited).toEqual({ advisory: 0, organizationRows: 0 });

    await db.repos.organizations.setLimits(organizationId, { snapshots: 100 });
    const limited = await db.transaction(async (tx) => {
      await enforceLimits(tx, organizationId, { snapshots: 1, snapshotGiB: 5 }, { actor: 'system:scheduler' });
      return locksHeld(tx);
    });
    // snapshots is limited, snapshotGiB is not: one lock, and the organization row is not locked.
    expect(limited).toEqual({ advisory: 1, organizationRows: 0 });
    // An instance limit does not serialize snapshots.
    await db.repos.organizations.setLimits(organizationId, { snapshots: null, instances: 5 });
    const other = await db.transaction(async (tx) => {
      await enforceLimits(tx, organizationId, { snapshots: 1, snapshotGiB: 5 }, { actor: 'system:scheduler' });
      return locksHeld(tx);
    });
    expect(other).toEqual({ advisory: 0, organizationRows: 0 });
    await db.repos.organizations.setLimits(organizationId, { instances: null });
  });

  it('counts every snapshot row in any state, an instance snapshot once per disk, each with its volume size', async () => {
    const org = await db.repos.organizations.create(`usage-${++counter}`);
    const env = await db.repos.environments.create(org.id, 'production');
    const h = await host(1000);
    const instance = await db.repos.instances.create({
      organizationId: org.id,
      environmentId: env.id,
      hostId: h.id,
      name: 'vm',
      state: InstanceState.ERROR,
    });
    const volumes = await db.repos.volumes.createMany(
      [3, 5, 7].map((sizeGiB, i) => ({
        organizationId: org.id,
        environmentId: env.id,
        instanceId: instance.id,
        hostId: h.id,
        name: i === 0 ? 'ROOT' : `DATA-${i}`,
        type: i === 0 ? VolumeType.ROOT : VolumeType.DATADISK,
        state: [VolumeState.READY, VolumeState.ERROR, VolumeState.CREATING][i],
        sizeGiB,
      })),
    );
    for (const state of [SnapshotState.IN_PROGRESS, SnapshotState.ERROR, SnapshotState.DESTROYING]) {
      await db.repos.snapshots.create({
        organizationId: org.id,
        environmentId: env.id,
        volumeId: volumes[1].id,
        instanceId: instance.id,
        name: `s-${state}`,
        description: null,
        state,
        lastJobId: null,
      });
    }
    await db.repos.instanceSnapshots.create({
      organizationId: org.id,
      environmentId: env.id,
      instanceId: instance.id,
      volumeIds: [volumes[0].id, volumes[2].id],
      name: 'rp',
      description: null,
      state: SnapshotState.COMPLETED,
      withMemory: false,
      lastJobId: null,
    });
    expect(await db.repos.organizations.usage(org.id)).toEqual({
      snapshots: 3 + 2,
      snapshotGiB: 3 * 5 + 3 + 7,
      instances: 1,
      volumeGiB: 15,
      backups: 0,
      backupGiB: 0,
    });
    // Another organization's rows do not count.
    expect((await db.repos.organizations.usage(organizationId)).volumeGiB).toBe(0);
  });

  it('30 concurrent transactions against an instance limit of 4 end with exactly 4 instances', async () => {
    const org = await db.repos.organizations.create(`race-${++counter}`, { instances: 4 });
    const env = await db.repos.environments.create(org.id, 'production');
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        db.transaction(async (tx) => {
          await enforceLimits(tx, org.id, { instances: 1 }, { actor: 'system:scheduler' });
          await tx.instances.create({
            organizationId: org.id,
            environmentId: env.id,
            hostId: null as unknown as string,
            name: `vm-${i}`,
            state: InstanceState.CREATING,
          });
        }),
      ),
    );
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    expect(results.length - refused.length).toBe(4);
    for (const reason of refused) {
      expect(reason).toBeInstanceOf(DomainError);
      expect((reason as DomainError).code).toBe(ErrorCode.QUOTA_EXCEEDED);
      expect((reason as DomainError).details).toEqual({ resource: 'instances', limit: 4, used: 4, requested: 1 });
    }
    expect((await db.repos.organizations.usage(org.id)).instances).toBe(4);
  });

  describe('placement by capacity', () => {
    const config = loadApiConfig({ STORAGE_OVERCOMMIT_RATIO: '1.5' });
    const provisioning = new ProvisioningService(config);
    const blank = (sizeGiB: number): PlannedVolume => ({
      name: 'ROOT',
      type: VolumeType.ROOT,
      sizeGiB,
      source: { kind: 'blank' },
    });
    const provision = (hostId: string | null, sizeGiB: number, name = `vm-${++counter}`) =>
      db.transaction((tx) =>
        provisioning.provision(tx, principal, {
          organizationId,
          environmentId,
          host: hostId ? { kind: 'named', hostId } : { kind: 'any' },
          instance: { create: name, size: DEFAULT_INSTANCE_SIZE },
          volumes: [blank(sizeGiB)],
        }),
      );
    const refusal = async (work: Promise<unknown>) => {
      const error = await work.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DomainError);
      return error as DomainError;
    };

    it('a named host takes volumes up to total × STORAGE_OVERCOMMIT_RATIO, concurrently too, and no more', async () => {
      const small = await host(20); // 30 GiB with a ratio of 1.5
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => provision(small.id, 4)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7); // 28 GiB
      for (const r of results.filter((r) => r.status === 'rejected')) {
        const error = r.reason as DomainError;
        expect(error.code).toBe(ErrorCode.PRECONDITION_FAILED);
        expect(error.message).toMatch(/has no room for 4 GiB: 28 GiB of its 30 GiB/);
      }
      expect(await db.repos.hosts.provisionedGiB(small.id)).toBe(28);
    });

    it('without a host named, picks one with room; none with room is PRECONDITION_FAILED', async () => {
      // Every UP host of this database is a candidate; the huge request fits none of them.
      const error = await refusal(provision(null, 16384 * 600));
      expect(error.code).toBe(ErrorCode.PRECONDITION_FAILED);
      expect(error.message).toMatch(/^No host has room for 9830400 GiB/);
      const roomy = await host(100000);
      const made = await provision(null, 90000);
      expect(made.volumes[0].hostId).toBe(roomy.id);
    });

    it('a host that has not reported its storage is not placed on', async () => {
      const silent = await host(null);
      const error = await refusal(provision(silent.id, 1));
      expect(error.code).toBe(ErrorCode.PRECONDITION_FAILED);
      expect(error.message).toMatch(/has not reported its storage/);
    });
  });
});
