import { describeWith } from '@snapdeck/testing';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInstance } from './support/flows.js';
import { errorCodes, eventually, mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const SCHEDULE_FIELDS =
  'id schedule timezone mode compression incremental notify enabled nextRunAt lastRunAt lastStatus lastError ' +
  'createdAt instances { id } storage { name } retention { keepLast keepHourly keepDaily keepWeekly keepMonthly keepYearly }';
const CREATE = `mutation($input: CreateBackupScheduleInput!) { createBackupSchedule(input: $input) { backupSchedule { ${SCHEDULE_FIELDS} } } }`;
const LIST = `query { backupSchedules(first: 50) { edges { node { id lastStatus } } } }`;
const DELETE = `mutation($id: ID!) { deleteBackupSchedule(input: { backupScheduleId: $id }) { backupSchedule { id } } }`;
const BACKUPS = `query($instanceId: ID!) { backups(filter: { instanceId: $instanceId }, first: 100) {
  edges { node { id state incremental } } } }`;

/**
 * Backup schedules on the real stack: the api's own scheduler runs a 6-field schedule every 3 s
 * (POLICY_MIN_INTERVAL_SECONDS=1) on a qemu-img agent writing real backup folders, and prunes them with keepLast
 * (POLICY_PRUNE_INTERVAL_SECONDS=1): the folders on the storage are the READY backups the api lists.
 */
describeWith(['redis', 'qemu-img'], 'backup schedules on the real stack', () => {
  let stack: Stack;
  let tenant: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    stack = await startStack({
      agents: ['kvm-bs'],
      apiEnv: { POLICY_MIN_INTERVAL_SECONDS: '1', POLICY_PRUNE_INTERVAL_SECONDS: '1' },
    });
    tenant = await createTenant(stack);
    other = await createTenant(stack);
  }, 60000);
  afterAll(() => stack?.close());

  it('runs every 3 s, writes backups on disk and prunes them to keepLast 2; tenancy and roles hold', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'sched-1',
    });
    const input = {
      instanceIds: [instance.id],
      schedule: '*/3 * * * * *',
      timezone: 'Europe/Madrid',
      incremental: false,
      notify: ['ops@example.test'],
      retention: { keepLast: 2 },
    };
    // Another organization's instance is NOT_FOUND; a reader may not write; bad retention names its field.
    expect(await errorCodes(stack.url, other.tokens.MEMBER, CREATE, { input })).toEqual(['NOT_FOUND']);
    expect(await errorCodes(stack.url, tenant.tokens.READ_ONLY, CREATE, { input })).toEqual(['FORBIDDEN']);
    expect(
      await errorCodes(stack.url, tenant.tokens.MEMBER, CREATE, { input: { ...input, retention: { keepLast: 101 } } }),
    ).toEqual(['BAD_USER_INPUT']);

    const { createBackupSchedule } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, { input });
    const schedule = createBackupSchedule.backupSchedule;
    expect(schedule).toMatchObject({
      mode: 'SNAPSHOT',
      compression: 'ZSTD',
      incremental: false,
      enabled: true,
      instances: [{ id: instance.id }],
      storage: { name: 'default' },
      retention: { keepLast: 2, keepDaily: null },
      lastStatus: null,
    });
    expect(schedule.nextRunAt).toMatch(/Z$/);
    const { backupSchedules: seenByOther } = await mustQuery(stack.url, other.tokens.READ_ONLY, LIST);
    expect(seenByOther.edges).toHaveLength(0);

    // At least four runs: with keepLast 2, two backups were written and pruned by then.
    await eventually(
      async () => {
        const { events } = await mustQuery(
          stack.url,
          tenant.tokens.READ_ONLY,
          `query($id: ID!) { events(filter: { resourceId: $id }, first: 100) { edges { node { type } } } }`,
          { id: schedule.id },
        );
        return events.edges.filter((e: any) => e.node.type === 'POLICY_RUN_SUCCEEDED').length >= 4 || null;
      },
      30000,
      'four scheduled runs',
    );
    // Between two runs (the last backup and the deletes settled): two READY backups, only their folders on disk.
    const folder = join(stack.secondaryDir, 'backups', tenant.organizationId);
    const ready = await eventually(
      async () => {
        const { backups } = await mustQuery(stack.url, tenant.tokens.READ_ONLY, BACKUPS, { instanceId: instance.id });
        const nodes = backups.edges.map((e: any) => e.node) as Array<{ id: string; state: string }>;
        if (nodes.some((b) => b.state !== 'READY') || nodes.length !== 2) return null;
        const onDisk = (await readdir(folder)).sort();
        return onDisk.join() ===
          nodes
            .map((b) => b.id)
            .sort()
            .join()
          ? nodes
          : null;
      },
      30000,
      'two READY backups, the only folders on the storage',
    );
    expect(ready).toHaveLength(2);
    await mustQuery(stack.url, tenant.tokens.MEMBER, DELETE, { id: schedule.id });
    const { backupSchedules: left } = await mustQuery(stack.url, tenant.tokens.READ_ONLY, LIST);
    expect(left.edges).toHaveLength(0);
  }, 90000);
});
