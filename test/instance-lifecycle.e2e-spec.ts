/**
 * Running instances and recovery points end to end: GraphQL over HTTP against the api and one agent with the
 * simulator driver (which runs instances and refuses what libvirt refuses), on real PostgreSQL and Redis.
 */
import { describeWith } from '@snapdeck/testing';
import { createInstance, waitForSnapshot, type CreatedInstance } from './support/flows.js';
import { errorCodes, eventually, mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const INSTANCE_FIELDS = 'id state volumes { id name type state }';
const POINT_FIELDS =
  'id name description state withMemory quiesced error createdAt instance { id } job { status error }';

describeWith(['redis'], 'running instances and recovery points (simulator agent)', () => {
  let stack: Stack;
  let tenant: Tenant;
  let token: string;
  let vm: CreatedInstance;
  let rootId: string;

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-sim'], agentEnv: { AGENT_DRIVER: 'simulator' } });
    tenant = await createTenant(stack);
    token = tenant.tokens.MEMBER;
    vm = await createInstance(stack, token, {
      environmentId: tenant.environmentId,
      name: 'web-1',
      dataDiskSizesGiB: [1],
    });
    rootId = vm.volumes.find((v) => v.type === 'ROOT')!.id;
  });
  afterAll(() => stack?.close());

  const instance = async (id = vm.id) =>
    (
      await mustQuery<{ instance: { id: string; state: string; volumes: Array<{ state: string }> } | null }>(
        stack.url,
        token,
        `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} } }`,
        { id },
      )
    ).instance;

  /** Waits for the instance to be `state` with every volume READY (no operation left in flight). */
  const settled = (state: string) =>
    eventually(
      async () => {
        const found = await instance();
        return found?.state === state && found.volumes.every((v) => v.state === 'READY') ? found : null;
      },
      20000,
      `instance to be ${state}`,
    );

  const point = async (id: string) =>
    (
      await mustQuery<{ node: Record<string, any> | null }>(
        stack.url,
        token,
        `query($id: ID!) { node(id: $id) { ... on InstanceSnapshot { ${POINT_FIELDS} } } }`,
        { id },
      )
    ).node;

  const waitForPoint = (id: string, state: string | null) =>
    eventually(
      async () => {
        const found = await point(id);
        if (state === null) return found === null;
        if (found?.state === 'ERROR' && state !== 'ERROR') throw new Error(`recovery point ERROR: ${found.error}`);
        return found?.state === state ? found : null;
      },
      20000,
      `recovery point ${id} to be ${state ?? 'gone'}`,
    );

  async function power(mutation: 'startInstance' | 'stopInstance', expected: string): Promise<void> {
    const data = await mustQuery<Record<string, { instance: { state: string }; job: { id: string } }>>(
      stack.url,
      token,
      `mutation($id: ID!) { ${mutation}(input: { instanceId: $id }) { instance { state } job { id } } }`,
      { id: vm.id },
    );
    expect(data[mutation].instance.state).toBe(expected);
  }

  async function createPoint(input: Record<string, unknown>): Promise<Record<string, any>> {
    const { createInstanceSnapshot } = await mustQuery<{
      createInstanceSnapshot: { instanceSnapshot: Record<string, any>; job: { id: string } };
    }>(
      stack.url,
      token,
      `mutation($input: CreateInstanceSnapshotInput!) {
        createInstanceSnapshot(input: $input) { instanceSnapshot { ${POINT_FIELDS} } job { id } }
      }`,
      { input: { instanceId: vm.id, ...input } },
    );
    expect(createInstanceSnapshot.instanceSnapshot.state).toBe('IN_PROGRESS');
    return createInstanceSnapshot.instanceSnapshot;
  }

  /** The job's final status (and its error, when it failed). */
  const jobStatus = (id: string) =>
    eventually(
      async () => {
        const { job } = await mustQuery<{ job: { status: string; error: string | null } }>(
          stack.url,
          token,
          `query($id: ID!) { job(id: $id) { status error } }`,
          { id },
        );
        if (job.status === 'FAILED') return `FAILED: ${job.error}`;
        return job.status === 'SUCCEEDED' ? job.status : null;
      },
      20000,
      `job ${id} to finish`,
    );

  const REVERT = `mutation($input: RevertToInstanceSnapshotInput!) {
    revertToInstanceSnapshot(input: $input) { instance { id state } job { id } }
  }`;

  let volumeSnapshotId: string;
  let memoryPointId: string;
  let diskPointId: string;

  it('starts the instance: STARTING, then RUNNING', async () => {
    await power('startInstance', 'STARTING');
    await settled('RUNNING');
    expect(
      await errorCodes(
        stack.url,
        token,
        `mutation($id: ID!) { startInstance(input: { instanceId: $id }) { job { id } } }`,
        { id: vm.id },
      ),
    ).toEqual(['PRECONDITION_FAILED']);
  });

  it('takes a snapshot of a running volume, quiesced when asked', async () => {
    const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string } } }>(
      stack.url,
      token,
      `mutation($v: ID!) { createSnapshot(input: { volumeId: $v, quiesce: true }) { snapshot { id } } }`,
      { v: rootId },
    );
    volumeSnapshotId = createSnapshot.snapshot.id;
    await waitForSnapshot(stack, token, volumeSnapshotId, 'COMPLETED');
    const { snapshot } = await mustQuery<{ snapshot: { quiesced: boolean; name: string } }>(
      stack.url,
      token,
      `query($id: ID!) { snapshot(id: $id) { name quiesced } }`,
      { id: volumeSnapshotId },
    );
    expect(snapshot).toEqual({ name: expect.stringMatching(/^web-1_ROOT_\d{14}$/) as unknown, quiesced: true });
  });

  it('refuses to revert a volume, or destroy the instance, while it runs: PRECONDITION_FAILED', async () => {
    expect(
      await errorCodes(
        stack.url,
        token,
        `mutation($s: ID!) { revertVolumeToSnapshot(input: { snapshotId: $s }) { job { id } } }`,
        { s: volumeSnapshotId },
      ),
    ).toEqual(['PRECONDITION_FAILED']);
    expect(
      await errorCodes(
        stack.url,
        token,
        `mutation($i: ID!) { destroyInstance(input: { instanceId: $i, expungeSnapshots: true }) { job { id } } }`,
        { i: vm.id },
      ),
    ).toEqual(['PRECONDITION_FAILED']);
    expect((await settled('RUNNING')).state).toBe('RUNNING');
  });

  it('takes a recovery point with memory of the running instance, auto-named', async () => {
    const created = await createPoint({ withMemory: true });
    expect(created).toMatchObject({ withMemory: true, instance: { id: vm.id } });
    expect(created.name).toMatch(/^web-1_VS_\d{14}$/);
    memoryPointId = created.id;
    await waitForPoint(memoryPointId, 'COMPLETED');
    await settled('RUNNING');
  });

  it('stops the instance: STOPPING, then STOPPED', async () => {
    await power('stopInstance', 'STOPPING');
    await settled('STOPPED');
  });

  it('takes a disk-only recovery point of the stopped instance', async () => {
    const created = await createPoint({ name: 'cold', description: 'stopped' });
    expect(created).toMatchObject({ name: 'cold', description: 'stopped', withMemory: false, quiesced: false });
    diskPointId = created.id;
    expect(await waitForPoint(diskPointId, 'COMPLETED')).toMatchObject({ job: { status: 'SUCCEEDED' } });
  });

  it('reverts to the memory point and runs the instance (startAfter: true)', async () => {
    const { revertToInstanceSnapshot } = await mustQuery<{ revertToInstanceSnapshot: { instance: { state: string } } }>(
      stack.url,
      token,
      REVERT,
      { input: { instanceSnapshotId: memoryPointId, startAfter: true } },
    );
    expect(revertToInstanceSnapshot.instance.state).toBe('STOPPED');
    await settled('RUNNING');
  });

  it('refuses the disk-only point while the instance runs, then reverts it once stopped and leaves it STOPPED', async () => {
    expect(await errorCodes(stack.url, token, REVERT, { input: { instanceSnapshotId: diskPointId } })).toEqual([
      'PRECONDITION_FAILED',
    ]);
    await power('stopInstance', 'STOPPING');
    await settled('STOPPED');
    const { revertToInstanceSnapshot } = await mustQuery<{ revertToInstanceSnapshot: { job: { id: string } } }>(
      stack.url,
      token,
      REVERT,
      { input: { instanceSnapshotId: diskPointId, startAfter: false } },
    );
    expect(await jobStatus(revertToInstanceSnapshot.job.id)).toBe('SUCCEEDED');
    expect((await settled('STOPPED')).state).toBe('STOPPED');
  });

  it('still reverts the volume snapshot after recovery points were taken and reverted on the same instance', async () => {
    const { revertVolumeToSnapshot } = await mustQuery<{ revertVolumeToSnapshot: { volume: { state: string } } }>(
      stack.url,
      token,
      `mutation($s: ID!) { revertVolumeToSnapshot(input: { snapshotId: $s }) { volume { state } job { id } } }`,
      { s: volumeSnapshotId },
    );
    expect(revertVolumeToSnapshot.volume.state).toBe('REVERTING');
    await settled('STOPPED');
    const { snapshot } = await mustQuery<{ snapshot: { job: { status: string } } }>(
      stack.url,
      token,
      `query($id: ID!) { snapshot(id: $id) { job { status } } }`,
      { id: volumeSnapshotId },
    );
    expect(snapshot.job.status).toBe('SUCCEEDED');
  });

  it('lists the recovery points newest first, and deletes one: DESTROYING, then gone', async () => {
    const list = async () =>
      (
        await mustQuery<{ instanceSnapshots: { totalCount: number; edges: Array<{ node: { id: string } }> } }>(
          stack.url,
          token,
          `query($i: ID!) { instanceSnapshots(filter: { instanceId: $i }, first: 10) { totalCount edges { node { id } } } }`,
          { i: vm.id },
        )
      ).instanceSnapshots;
    expect(await list()).toEqual({
      totalCount: 2,
      edges: [{ node: { id: diskPointId } }, { node: { id: memoryPointId } }],
    });
    const { deleteInstanceSnapshot } = await mustQuery<{
      deleteInstanceSnapshot: { instanceSnapshot: { state: string } };
    }>(
      stack.url,
      token,
      `mutation($id: ID!) { deleteInstanceSnapshot(input: { instanceSnapshotId: $id }) { instanceSnapshot { state } job { id } } }`,
      { id: memoryPointId },
    );
    expect(deleteInstanceSnapshot.instanceSnapshot.state).toBe('DESTROYING');
    await waitForPoint(memoryPointId, null);
    expect((await list()).edges).toEqual([{ node: { id: diskPointId } }]);
  });

  it("hides the tenant's recovery points from another organization", async () => {
    const other = await createTenant(stack);
    const { node } = await mustQuery<{ node: unknown }>(
      stack.url,
      other.tokens.ORG_ADMIN,
      `query($id: ID!) { node(id: $id) { id } }`,
      { id: diskPointId },
    );
    expect(node).toBeNull();
    expect(
      await errorCodes(stack.url, other.tokens.ORG_ADMIN, REVERT, { input: { instanceSnapshotId: diskPointId } }),
    ).toEqual(['NOT_FOUND']);
  });

  it('destroys the instance only with expungeSnapshots while it has snapshots and recovery points', async () => {
    const DESTROY = `mutation($input: DestroyInstanceInput!) { destroyInstance(input: $input) { instance { state } job { id } } }`;
    expect(await errorCodes(stack.url, token, DESTROY, { input: { instanceId: vm.id } })).toEqual([
      'PRECONDITION_FAILED',
    ]);
    await mustQuery(stack.url, token, DESTROY, { input: { instanceId: vm.id, expungeSnapshots: true } });
    await eventually(async () => (await instance()) === null, 20000, 'instance to be gone');
    expect(await point(diskPointId)).toBeNull();
  });
});
