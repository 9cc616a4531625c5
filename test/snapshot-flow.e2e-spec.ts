import { describeWith } from '@snapdeck/testing';
import { errorCodes, graphql, mustQuery } from './support/graphql-client.js';
import { diskInfo, diskSnapshotTags } from './support/disk.js';
import { createInstance, SNAPSHOT_FIELDS, waitForSnapshot } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const CREATE = `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { ${SNAPSHOT_FIELDS} } job { id status } } }`;
const DELETE = `mutation($id: ID!) { deleteSnapshot(input: { snapshotId: $id }) { snapshot { id state } job { id status } } }`;

describeWith(['redis', 'qemu-img'], 'snapshots of real qcow2 volumes, from GraphQL through the agent and back', () => {
  let stack: Stack;
  let tenant: Tenant;

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a'] });
    tenant = await createTenant(stack);
  });
  afterAll(() => stack?.close());

  it('provisions an instance: a ROOT and DATA-n qcow2 of the requested sizes on the host', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'web-1',
      rootDiskSizeGiB: 2,
      dataDiskSizesGiB: [1],
    });
    expect(instance.volumes.map((v) => [v.name, v.type]).sort()).toEqual([
      ['DATA-1', 'DATADISK'],
      ['ROOT', 'ROOT'],
    ]);
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const info = await diskInfo(stack.agents.get('kvm-a')!.storageDir, root.id);
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(2 * 1024 ** 3);
  });

  it('takes a snapshot with an automatic name, completes it, and the tag is on disk', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'app-1',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const before = new Date();
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId: root.id, name: '  ' },
    });
    expect(createSnapshot.snapshot.state).toBe('IN_PROGRESS');
    expect(createSnapshot.snapshot.volume.state).toBe('SNAPSHOTTING');
    expect(['PENDING', 'RUNNING', 'SUCCEEDED']).toContain(createSnapshot.job.status);
    expect(createSnapshot.snapshot.name).toMatch(/^app-1_ROOT_\d{14}$/);
    const stamp = createSnapshot.snapshot.name.slice('app-1_ROOT_'.length);
    const stampDate = new Date(
      `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}Z`,
    );
    expect(Math.abs(stampDate.getTime() - before.getTime())).toBeLessThan(5000);

    const done = await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
    expect(done.volume.state).toBe('READY');
    expect(done.job.status).toBe('SUCCEEDED');
    expect(done.completedAt).not.toBeNull();
    expect(await diskSnapshotTags(stack.agents.get('kvm-a')!.storageDir, root.id)).toEqual([
      createSnapshot.snapshot.id,
    ]);
  });

  it('keeps automatic names unique per volume when two land in the same second', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'twin',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
        input: { volumeId: root.id },
      });
      await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
      names.push(createSnapshot.snapshot.name);
    }
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^twin_ROOT_\d{14}(-\d+)?$/);
  });

  it('auto-names a snapshot of an instance whose name is 63 characters long', async () => {
    const longName = `i${'x'.repeat(61)}z`;
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: longName,
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId: root.id },
    });
    expect(createSnapshot.snapshot.name).toMatch(new RegExp(`^${longName}_ROOT_\\d{14}$`));
    await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
  });

  it('uses the given name and description, and lists the snapshot under its filters', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'db-1',
      dataDiskSizesGiB: [1],
    });
    const data = instance.volumes.find((v) => v.type === 'DATADISK')!;
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId: data.id, name: 'before-upgrade', description: 'pre apt upgrade' },
    });
    expect(createSnapshot.snapshot.name).toBe('before-upgrade');
    expect(createSnapshot.snapshot.description).toBe('pre apt upgrade');
    await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
    for (const filter of [
      { volumeId: data.id },
      { instanceId: instance.id },
      { environmentId: tenant.environmentId },
      { states: ['COMPLETED'] },
    ]) {
      const { snapshots } = await mustQuery(
        stack.url,
        tenant.tokens.READ_ONLY,
        `query($filter: SnapshotFilter) { snapshots(filter: $filter, first: 100) { totalCount edges { node { id instance { id } environment { id } } } } }`,
        { filter },
      );
      expect(snapshots.edges.map((e: any) => e.node.id)).toContain(createSnapshot.snapshot.id);
    }
    const { snapshots } = await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `{ snapshots(filter: { states: [ERROR] }) { edges { node { id } } } }`,
    );
    expect(snapshots.edges.map((e: any) => e.node.id)).not.toContain(createSnapshot.snapshot.id);
  });

  it('refuses a second snapshot of a volume while one is in progress (CONFLICT), changing nothing', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'busy',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        graphql(stack.url, tenant.tokens.MEMBER, CREATE, { input: { volumeId: root.id } }),
      ),
    );
    const won = results.filter((r) => r.data?.createSnapshot);
    const lost = results.filter((r) => r.errors?.length);
    expect(won.length).toBeGreaterThanOrEqual(1);
    for (const r of lost) expect(r.errors![0].extensions!.code).toBe('CONFLICT');
    for (const r of won)
      await waitForSnapshot(stack, tenant.tokens.MEMBER, (r.data as any).createSnapshot.snapshot.id, 'COMPLETED');
    const { snapshots } = await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `query($v: ID!) { snapshots(filter: { volumeId: $v }) { totalCount } }`,
      { v: root.id },
    );
    expect(snapshots.totalCount).toBe(won.length);
    expect((await diskSnapshotTags(stack.agents.get('kvm-a')!.storageDir, root.id)).length).toBe(won.length);
  });

  it('deletes: DESTROYING at once, then gone from listings and from the disk', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'gone',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const { createSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, CREATE, {
      input: { volumeId: root.id },
    });
    const id = createSnapshot.snapshot.id;
    await waitForSnapshot(stack, tenant.tokens.MEMBER, id, 'COMPLETED');
    const { deleteSnapshot } = await mustQuery(stack.url, tenant.tokens.MEMBER, DELETE, { id });
    expect(deleteSnapshot.snapshot.state).toBe('DESTROYING');
    expect(await errorCodes(stack.url, tenant.tokens.MEMBER, DELETE, { id })).toEqual(['CONFLICT']);
    await waitForSnapshot(stack, tenant.tokens.MEMBER, id, null);
    const { snapshots } = await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `query($v: ID!) { snapshots(filter: { volumeId: $v }) { totalCount edges { node { id } } } }`,
      { v: root.id },
    );
    expect(snapshots.totalCount).toBe(0);
    expect(await diskSnapshotTags(stack.agents.get('kvm-a')!.storageDir, root.id)).toEqual([]);
    const job = await mustQuery(stack.url, tenant.tokens.MEMBER, `query($id: ID!) { job(id: $id) { status } }`, {
      id: deleteSnapshot.job.id,
    });
    expect(job.job.status).toBe('SUCCEEDED');
  });
});
