import { describeWith } from '@snapdeck/testing';
import { diskSnapshotTags } from './support/disk.js';
import { createInstance } from './support/flows.js';
import { errorCodes, eventually, graphql, mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const POLICY_FIELDS =
  'id schedule timezone keep enabled notify nextRunAt lastRunAt lastStatus lastError createdAt volume { id }';
const CREATE = `mutation($input: CreateSnapshotPolicyInput!) { createSnapshotPolicy(input: $input) { snapshotPolicy { ${POLICY_FIELDS} } } }`;
const UPDATE = `mutation($input: UpdateSnapshotPolicyInput!) { updateSnapshotPolicy(input: $input) { snapshotPolicy { ${POLICY_FIELDS} } } }`;
const DELETE = `mutation($id: ID!) { deleteSnapshotPolicy(input: { snapshotPolicyId: $id }) { snapshotPolicy { id } } }`;
const PROTECT = `mutation($id: ID!, $on: Boolean!) { setSnapshotProtection(input: { snapshotId: $id, protected: $on }) { snapshot { id protected } } }`;
const SNAPSHOTS = `query($volumeId: ID!) { snapshots(filter: { volumeId: $volumeId }, first: 100) {
  edges { node { id state protected policy { id } } } } }`;

interface PolicySnapshot {
  id: string;
  state: string;
  protected: boolean;
  policy: { id: string } | null;
}

/**
 * Snapshot policies on the real stack: the api's own scheduler (timer + poll), a qemu-img agent, real qcow2 files.
 * A 6-field schedule every 2 s (POLICY_MIN_INTERVAL_SECONDS=1) takes snapshots that are on disk and prunes to keep.
 */
describeWith(['redis', 'qemu-img'], 'snapshot policies on the real stack', () => {
  let stack: Stack;
  let tenant: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    stack = await startStack({
      agents: ['kvm-p'],
      apiEnv: { POLICY_MIN_INTERVAL_SECONDS: '1', POLICY_PRUNE_INTERVAL_SECONDS: '1' },
    });
    tenant = await createTenant(stack);
    other = await createTenant(stack);
  });
  afterAll(() => stack?.close());

  const snapshotsOf = async (volumeId: string) =>
    (
      await mustQuery<{ snapshots: { edges: Array<{ node: PolicySnapshot }> } }>(
        stack.url,
        tenant.tokens.READ_ONLY,
        SNAPSHOTS,
        { volumeId },
      )
    ).snapshots.edges.map((e) => e.node);

  it('a 6-field schedule every 2 s takes snapshots that are on disk, and prunes to keep', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'cron-1',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const { createSnapshotPolicy } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: {
        volumeId: root.id,
        schedule: '*/2 * * * * *',
        timezone: 'Europe/Madrid',
        keep: 2,
        notify: ['ops@example.test'],
      },
    });
    const policy = createSnapshotPolicy.snapshotPolicy;
    expect(policy).toMatchObject({ keep: 2, enabled: true, notify: ['ops@example.test'], lastStatus: null });
    expect(new Date(policy.nextRunAt).getUTCSeconds() % 2).toBe(0);
    expect(policy.nextRunAt).toMatch(/Z$/);

    // Four successful runs: with keep 2, at least two snapshots were taken and pruned by then.
    await eventually(
      async () => {
        const { events } = await mustQuery(
          stack.url,
          tenant.tokens.READ_ONLY,
          `query($id: ID!) { events(filter: { resourceId: $id }, first: 100) { edges { node { type } } } }`,
          { id: policy.id },
        );
        const succeeded = events.edges.filter(
          (e: { node: { type: string } }) => e.node.type === 'POLICY_RUN_SUCCEEDED',
        );
        return succeeded.length >= 4;
      },
      30000,
      'four successful policy runs',
    );
    await mustQuery(stack.url, tenant.tokens.MEMBER, UPDATE, {
      input: { snapshotPolicyId: policy.id, enabled: false },
    });
    // Once what was in flight settled: exactly `keep` COMPLETED snapshots of the policy, each a tag on the qcow2.
    const settled = await eventually(
      async () => {
        const rows = await snapshotsOf(root.id);
        const busy = rows.some((s) => s.state !== 'COMPLETED');
        const completed = rows.filter((s) => s.state === 'COMPLETED');
        return !busy && completed.length === 2 ? completed : null;
      },
      20000,
      'retention to settle at keep 2',
    );
    expect(settled.every((s) => s.policy?.id === policy.id && !s.protected)).toBe(true);
    const tags = await diskSnapshotTags(stack.agents.get('kvm-p')!.storageDir, root.id);
    expect(tags.sort()).toEqual(settled.map((s) => s.id).sort());

    const { node } = await mustQuery(
      stack.url,
      tenant.tokens.READ_ONLY,
      `query($id: ID!) { node(id: $id) { ... on SnapshotPolicy { id lastStatus lastRunAt enabled nextRunAt } } }`,
      { id: policy.id },
    );
    expect(node).toMatchObject({ id: policy.id, lastStatus: 'SUCCEEDED', enabled: false });
    expect(node.nextRunAt).not.toBeNull();
    const { volume } = await mustQuery(
      stack.url,
      tenant.tokens.READ_ONLY,
      `query($id: ID!) { volume(id: $id) { snapshotPolicies { id } } }`,
      {
        id: root.id,
      },
    );
    expect(volume.snapshotPolicies).toEqual([{ id: policy.id }]);

    // A protected snapshot cannot be deleted; deleting the policy leaves its snapshots, now without a policy.
    const [kept] = settled;
    await mustQuery(stack.url, tenant.tokens.MEMBER, PROTECT, { id: kept.id, on: true });
    expect(
      await errorCodes(
        stack.url,
        tenant.tokens.MEMBER,
        `mutation($id: ID!) { deleteSnapshot(input: { snapshotId: $id }) { snapshot { id } } }`,
        {
          id: kept.id,
        },
      ),
    ).toEqual(['PRECONDITION_FAILED']);
    await mustQuery(stack.url, tenant.tokens.MEMBER, DELETE, { id: policy.id });
    const after = await snapshotsOf(root.id);
    expect(after.map((s) => s.id).sort()).toEqual(settled.map((s) => s.id).sort());
    expect(after.every((s) => s.policy === null)).toBe(true);
    expect(after.find((s) => s.id === kept.id)?.protected).toBe(true);
    // Nor does a bulk delete get past it: destroying the instance with its snapshots is refused, nothing changes.
    expect(
      await errorCodes(
        stack.url,
        tenant.tokens.MEMBER,
        `mutation($id: ID!) { destroyInstance(input: { instanceId: $id, expungeSnapshots: true }) { instance { id } } }`,
        { id: instance.id },
      ),
    ).toEqual(['PRECONDITION_FAILED']);
    expect((await snapshotsOf(root.id)).map((s) => s.state)).toEqual(['COMPLETED', 'COMPLETED']);
  });

  it('refuses bad input naming the field, READ_ONLY writes, and another tenant’s volume or policy', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'cron-2',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const input = { volumeId: root.id, schedule: '@daily', timezone: 'UTC', keep: 3 };
    const fieldOf = async (changes: Record<string, unknown>) => {
      const response = await graphql(stack.url, tenant.tokens.MEMBER, CREATE, { input: { ...input, ...changes } });
      return [response.errors?.[0]?.extensions?.code, response.errors?.[0]?.extensions?.field];
    };
    expect(await fieldOf({ timezone: 'Mars/Olympus' })).toEqual(['BAD_USER_INPUT', 'timezone']);
    expect(await fieldOf({ schedule: '*/5 * * *' })).toEqual(['BAD_USER_INPUT', 'schedule']);
    expect(await fieldOf({ schedule: '@yearly' })).toEqual(['BAD_USER_INPUT', 'schedule']);
    expect(await fieldOf({ keep: 0 })).toEqual(['BAD_USER_INPUT', 'keep']);
    expect(await fieldOf({ keep: 101 })).toEqual(['BAD_USER_INPUT', 'keep']);
    expect(await fieldOf({ notify: ['not-an-address'] })).toEqual(['BAD_USER_INPUT', 'notify']);
    expect(await errorCodes(stack.url, tenant.tokens.READ_ONLY, CREATE, { input })).toEqual(['FORBIDDEN']);
    expect(await errorCodes(stack.url, other.tokens.MEMBER, CREATE, { input })).toEqual(['NOT_FOUND']);
    const { createSnapshotPolicy } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, { input });
    const id = createSnapshotPolicy.snapshotPolicy.id;
    expect(await errorCodes(stack.url, other.tokens.MEMBER, DELETE, { id })).toEqual(['NOT_FOUND']);
    const { snapshotPolicies } = await mustQuery(
      stack.url,
      other.tokens.READ_ONLY,
      `{ snapshotPolicies { totalCount } }`,
    );
    expect(snapshotPolicies.totalCount).toBe(0);
    const mine = await mustQuery(
      stack.url,
      tenant.tokens.READ_ONLY,
      `query($id: ID!) { snapshotPolicies(filter: { instanceId: $id }) { totalCount edges { node { id } } } }`,
      { id: instance.id },
    );
    expect(mine.snapshotPolicies.edges).toEqual([{ node: { id } }]);
  });
});
