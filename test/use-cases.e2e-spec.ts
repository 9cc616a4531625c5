/**
 * The use cases behind the new operations, end to end on real qcow2 files and two qemu-img hosts: rolling a
 * volume back, cloning a customer's snapshot for troubleshooting (on another host, into the support
 * organization), restoring a data disk from a snapshot, and destroying an instance with its snapshots. Data is
 * written and read back with qemu-io byte patterns, and every image touched is checked with qemu-img.
 *
 * To hold an operation "in progress" deterministically, a host's agent is stopped for a moment: its host stays
 * UP (heartbeats are not missed for long), so the api accepts the work and the job waits in the host's queue.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename } from 'node:fs/promises';
import { describeWith } from '@snapdeck/testing';
import { diskSnapshotTags } from './support/disk.js';
import { errorCodes, eventually, graphql, mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { createInstance, snapshotById, waitForSnapshot, type CreatedInstance } from './support/flows.js';
import {
  check,
  fileExists,
  hasPattern,
  isStandaloneQcow2,
  templateFile,
  volumeFile,
  writePattern,
} from './support/patterns.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, createUserWithToken, type Tenant } from './support/tenants.js';

const BEFORE = 0xab;
const AFTER = 0xcd;
const CUSTOMER = 0x77;
const RESTORE = 0xee;
const OVERWRITTEN = 0x11;
const DOOMED = 0x42;

const VOLUME_FIELDS = 'id name type state sizeGiB instance { id } host { id name } environment { id }';
const INSTANCE_FIELDS = `id name state host { id name } environment { id } volumes { ${VOLUME_FIELDS} }`;
const CREATE_SNAPSHOT = `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id state } } }`;
const DELETE_SNAPSHOT = `mutation($id: ID!) { deleteSnapshot(input: { snapshotId: $id }) { snapshot { id state } } }`;
const REVERT = `mutation($id: ID!) { revertVolumeToSnapshot(input: { snapshotId: $id }) {
  volume { ${VOLUME_FIELDS} } job { id type status } } }`;
const CLONE = `mutation($input: CreateInstanceFromSnapshotInput!) {
  createInstanceFromSnapshot(input: $input) { instance { ${INSTANCE_FIELDS} } job { id type status } } }`;
const VOLUME_FROM_SNAPSHOT = `mutation($input: CreateVolumeFromSnapshotInput!) {
  createVolumeFromSnapshot(input: $input) { volume { ${VOLUME_FIELDS} } job { id type status } } }`;
const DESTROY = `mutation($input: DestroyInstanceInput!) { destroyInstance(input: $input) {
  instance { id state } job { id type status } } }`;
const CREATE_TEMPLATE = `mutation($input: CreateTemplateFromSnapshotInput!) {
  createTemplateFromSnapshot(input: $input) { template { id state } } }`;
const DEPLOY = `mutation($input: DeployInstanceInput!) { deployInstance(input: $input) { instance { id } } }`;
const EVENTS = `query($filter: EventFilter) { events(filter: $filter, first: 100) {
  totalCount edges { node { id type resourceType resourceId actorUserId message details } } } }`;

const unique = () => randomBytes(4).toString('hex');
const ids = (connection: { edges: Array<{ node: { id: string } }> }) => connection.edges.map((e) => e.node.id);

interface Volume {
  id: string;
  name: string;
  type: string;
  state: string;
  sizeGiB: number;
  instance: { id: string } | null;
  host: { id: string; name: string };
}
interface Instance {
  id: string;
  name: string;
  state: string;
  host: { id: string; name: string };
  environment: { id: string };
  volumes: Volume[];
}

describeWith(['redis', 'qemu-img'], 'use cases on real qcow2 volumes across two hosts', () => {
  let stack: Stack;
  let hostA: string;
  let hostB: string;
  /** The customer whose data the cases are about, and an unrelated organization. */
  let customer: Tenant;
  let other: Tenant;
  let support: { organizationId: string; userId: string; token: string; environmentId: string };

  const storageOf = (hostName: string) => stack.agents.get(hostName)!.storageDir;
  const fileOf = (volume: { id: string; host: { name: string } }) => volumeFile(storageOf(volume.host.name), volume.id);
  const root = <V extends { type: string }>(instance: { volumes: V[] }) =>
    instance.volumes.find((v) => v.type === 'ROOT')!;
  const data = <V extends { type: string }>(instance: { volumes: V[] }) =>
    instance.volumes.find((v) => v.type === 'DATADISK')!;

  async function instanceById(token: string, id: string): Promise<Instance | null> {
    const { instance } = await mustQuery(
      stack.url,
      token,
      `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} } }`,
      {
        id,
      },
    );
    return instance;
  }

  async function volumeById(token: string, id: string): Promise<Volume | null> {
    const { volume } = await mustQuery(stack.url, token, `query($id: ID!) { volume(id: $id) { ${VOLUME_FIELDS} } }`, {
      id,
    });
    return volume;
  }

  function waitForInstance(token: string, id: string, state: string | null): Promise<Instance | { gone: true }> {
    return eventually(
      async () => {
        const instance = await instanceById(token, id);
        if (state === null) return instance === null ? { gone: true as const } : null;
        if (instance?.state === 'ERROR') throw new Error(`instance ${id} is ERROR`);
        return instance?.state === state ? instance : null;
      },
      30000,
      `instance ${id} to be ${state ?? 'gone'}`,
    );
  }
  const waitStopped = (token: string, id: string) => waitForInstance(token, id, 'STOPPED') as Promise<Instance>;

  function waitForVolume(token: string, id: string, state: string): Promise<Volume> {
    return eventually(
      async () => {
        const volume = await volumeById(token, id);
        if (volume?.state === 'ERROR' && state !== 'ERROR') throw new Error(`volume ${id} is ERROR`);
        return volume?.state === state ? volume : null;
      },
      30000,
      `volume ${id} to be ${state}`,
    );
  }

  async function jobStatus(id: string): Promise<string> {
    const { job } = await mustQuery(stack.url, stack.adminToken, `query($id: ID!) { job(id: $id) { status } }`, { id });
    return job.status;
  }

  async function snapshot(token: string, volumeId: string): Promise<string> {
    const { createSnapshot } = await mustQuery(stack.url, token, CREATE_SNAPSHOT, { v: volumeId });
    await waitForSnapshot(stack, token, createSnapshot.snapshot.id, 'COMPLETED');
    return createSnapshot.snapshot.id;
  }

  /** A STOPPED instance with its volumes' hosts, as the tests read them. */
  async function provision(
    tenant: Tenant,
    name: string,
    hostId: string,
    dataDiskSizesGiB: number[] = [],
  ): Promise<Instance> {
    const created: CreatedInstance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name,
      hostId,
      dataDiskSizesGiB,
    });
    return (await instanceById(tenant.tokens.MEMBER, created.id))!;
  }

  async function events(token: string, filter: Record<string, unknown>) {
    const { events } = await mustQuery(stack.url, token, EVENTS, { filter });
    return events.edges.map((e: any) => e.node) as Array<Record<string, any>>;
  }

  /** Stops hosts' agents (the hosts stay UP for a while) so the jobs sent to them wait; restarts them after. */
  async function whileAgentsStopped<T>(hostNames: string[], during: () => Promise<T>): Promise<T> {
    for (const hostName of hostNames) await stack.agents.get(hostName)!.close();
    try {
      return await during();
    } finally {
      for (const hostName of hostNames) await stack.startAgent(hostName);
    }
  }

  async function expectClean(...files: string[]) {
    for (const file of files) expect({ file, ...(await check(file)) }).toMatchObject({ file, clean: true });
  }

  /** Every node of a listing, page by page, as the platform administrator sees it. */
  async function everything(listing: string): Promise<Array<{ state: string }>> {
    const nodes: Array<{ state: string }> = [];
    for (let after: string | null = null; ;) {
      const page: Record<string, any> = await mustQuery(
        stack.url,
        stack.adminToken,
        `query($after: String) { ${listing}(first: 100, after: $after) { edges { node { state } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      nodes.push(...page[listing].edges.map((e: any) => e.node));
      if (!page[listing].pageInfo.hasNextPage) return nodes;
      after = page[listing].pageInfo.endCursor;
    }
  }

  /** Waits until nothing is in progress anywhere, so that work a test left running cannot reach the next one. */
  async function settle() {
    const busy = ['CREATING', 'DESTROYING', 'SNAPSHOTTING', 'REVERTING', 'IN_PROGRESS'];
    await eventually(
      async () => {
        for (const listing of ['instances', 'volumes', 'snapshots', 'templates'])
          if ((await everything(listing)).some((n) => busy.includes(n.state))) return false;
        return true;
      },
      60000,
      'nothing to be in progress',
    );
  }

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a', 'kvm-b'] });
    hostA = await stack.hostId('kvm-a');
    hostB = await stack.hostId('kvm-b');
    customer = await createTenant(stack);
    other = await createTenant(stack);
    const { createOrganization } = await mustQuery(
      stack.url,
      stack.adminToken,
      `mutation { createOrganization(input: { name: "support" }) { organization { id } } }`,
    );
    const organizationId = createOrganization.organization.id;
    const user = await createUserWithToken(stack, organizationId, 'SUPPORT');
    const { createEnvironment } = await mustQuery(
      stack.url,
      stack.adminToken,
      `mutation($org: ID!) { createEnvironment(input: { name: "troubleshooting", organizationId: $org }) { environment { id } } }`,
      { org: organizationId },
    );
    support = { organizationId, ...user, environmentId: createEnvironment.environment.id };
  });

  afterAll(() => stack?.close());

  describe('rollback: revertVolumeToSnapshot', () => {
    let instance: Instance;
    let file: string;
    let first: string;
    let second: string;

    beforeAll(async () => {
      instance = await provision(customer, 'rollback', hostA);
      file = fileOf(root(instance));
      await writePattern(file, BEFORE, 0, '4M');
      first = await snapshot(customer.tokens.MEMBER, root(instance).id);
      await writePattern(file, AFTER, 0, '4M');
      second = await snapshot(customer.tokens.MEMBER, root(instance).id);
      await writePattern(file, 0x99, 0, '4M');
    });

    it('answers REVERTING at once, then READY with the data of the snapshot; the snapshot and later ones stay', async () => {
      const { revertVolumeToSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, REVERT, { id: first });
      expect(revertVolumeToSnapshot.volume).toMatchObject({ id: root(instance).id, state: 'REVERTING' });
      expect(['PENDING', 'RUNNING', 'SUCCEEDED']).toContain(revertVolumeToSnapshot.job.status);
      await waitForVolume(customer.tokens.MEMBER, root(instance).id, 'READY');
      expect(await jobStatus(revertVolumeToSnapshot.job.id)).toBe('SUCCEEDED');

      expect(await hasPattern(file, BEFORE, 0, '4M')).toBe(true);
      expect(await hasPattern(file, AFTER, 0, '4M')).toBe(false);
      expect(await hasPattern(file, 0x99, 0, '4M')).toBe(false);
      await expectClean(file);

      const { snapshots } = await mustQuery(
        stack.url,
        customer.tokens.READ_ONLY,
        `query($v: ID!) { snapshots(filter: { volumeId: $v }) { totalCount edges { node { id state } } } }`,
        { v: root(instance).id },
      );
      expect(snapshots.edges.map((e: any) => e.node).sort((x: any, y: any) => x.id.localeCompare(y.id))).toEqual(
        [
          { id: first, state: 'COMPLETED' },
          { id: second, state: 'COMPLETED' },
        ].sort((x, y) => x.id.localeCompare(y.id)),
      );
      expect((await diskSnapshotTags(storageOf('kvm-a'), root(instance).id)).sort()).toEqual([first, second].sort());
      expect(await instanceById(customer.tokens.MEMBER, instance.id)).toMatchObject({ state: 'STOPPED' });

      // The later snapshot is still whole: going forward to it brings its data back.
      await mustQuery(stack.url, customer.tokens.MEMBER, REVERT, { id: second });
      await waitForVolume(customer.tokens.MEMBER, root(instance).id, 'READY');
      expect(await hasPattern(file, AFTER, 0, '4M')).toBe(true);
      await expectClean(file);

      const reverted = await events(customer.tokens.READ_ONLY, {
        resourceId: root(instance).id,
        type: 'VOLUME_REVERTED',
      });
      expect(reverted).toHaveLength(2);
    });

    it('refuses a revert while the volume is SNAPSHOTTING, and to a snapshot still IN_PROGRESS (CONFLICT)', async () => {
      const third = await whileAgentsStopped(['kvm-a'], async () => {
        const { createSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, CREATE_SNAPSHOT, {
          v: root(instance).id,
        });
        expect(createSnapshot.snapshot.state).toBe('IN_PROGRESS');
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, REVERT, { id: first })).toEqual(['CONFLICT']);
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, REVERT, { id: createSnapshot.snapshot.id })).toEqual(
          ['CONFLICT'],
        );
        expect(await volumeById(customer.tokens.MEMBER, root(instance).id)).toMatchObject({ state: 'SNAPSHOTTING' });
        // Nor can anything be copied from a snapshot that is not on disk yet.
        const inProgress = createSnapshot.snapshot.id as string;
        for (const [query, input] of [
          [CREATE_TEMPLATE, { snapshotId: inProgress, name: 'too-early' }],
          [VOLUME_FROM_SNAPSHOT, { snapshotId: inProgress, name: 'too-early' }],
          [CLONE, { snapshotId: inProgress, environmentId: customer.environmentId, name: 'too-early' }],
        ] as const)
          expect(await errorCodes(stack.url, customer.tokens.MEMBER, query, { input })).toEqual(['CONFLICT']);
        return inProgress;
      });
      await waitForSnapshot(stack, customer.tokens.MEMBER, third, 'COMPLETED');
      expect(await hasPattern(file, AFTER, 0, '4M')).toBe(true);
      await expectClean(file);
    });

    it('refuses a snapshot or a second revert while the volume is REVERTING (CONFLICT)', async () => {
      const jobId = await whileAgentsStopped(['kvm-a'], async () => {
        const { revertVolumeToSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, REVERT, { id: first });
        expect(revertVolumeToSnapshot.volume.state).toBe('REVERTING');
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, REVERT, { id: second })).toEqual(['CONFLICT']);
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, CREATE_SNAPSHOT, { v: root(instance).id })).toEqual([
          'CONFLICT',
        ]);
        return revertVolumeToSnapshot.job.id as string;
      });
      await waitForVolume(customer.tokens.MEMBER, root(instance).id, 'READY');
      expect(await jobStatus(jobId)).toBe('SUCCEEDED');
      expect(await hasPattern(file, BEFORE, 0, '4M')).toBe(true);
      await expectClean(file);
    });

    it('refuses a revert to a snapshot in ERROR (CONFLICT), leaving the data as it is', async () => {
      // A volume file missing at snapshot time makes a snapshot fail; the file is put back right after.
      await rename(file, `${file}.aside`);
      let failed: string;
      try {
        const { createSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, CREATE_SNAPSHOT, {
          v: root(instance).id,
        });
        failed = createSnapshot.snapshot.id;
        await waitForSnapshot(stack, customer.tokens.MEMBER, failed, 'ERROR');
      } finally {
        await rename(`${file}.aside`, file);
      }
      await waitForVolume(customer.tokens.MEMBER, root(instance).id, 'READY');
      expect(await errorCodes(stack.url, customer.tokens.MEMBER, REVERT, { id: failed })).toEqual(['CONFLICT']);
      expect(await volumeById(customer.tokens.MEMBER, root(instance).id)).toMatchObject({ state: 'READY' });
      expect(await hasPattern(file, BEFORE, 0, '4M')).toBe(true);
      await expectClean(file);
    });

    it("treats another organization's snapshot as NOT_FOUND, to SUPPORT too; READ_ONLY may not revert (FORBIDDEN)", async () => {
      for (const token of [other.tokens.MEMBER, other.tokens.ORG_ADMIN, support.token])
        expect(await errorCodes(stack.url, token, REVERT, { id: second })).toEqual(['NOT_FOUND']);
      expect(await errorCodes(stack.url, customer.tokens.READ_ONLY, REVERT, { id: second })).toEqual(['FORBIDDEN']);
      expect(await volumeById(customer.tokens.MEMBER, root(instance).id)).toMatchObject({ state: 'READY' });
      expect(await hasPattern(file, BEFORE, 0, '4M')).toBe(true);
    });

    // A RUNNING instance's revert (PRECONDITION_FAILED) needs an agent that runs instances: see
    // test/instance-lifecycle.e2e-spec.ts (simulator) and test/live-snapshots.e2e-spec.ts (libvirt).
  });

  describe('troubleshooting clone: createInstanceFromSnapshot', () => {
    let shop: Instance;
    let shopSnapshot: string;

    beforeAll(async () => {
      shop = await provision(customer, 'shop', hostA, [1]);
      await writePattern(fileOf(root(shop)), CUSTOMER, 0, '4M');
      await writePattern(fileOf(root(shop)), CUSTOMER, '700M', '1M');
      shopSnapshot = await snapshot(customer.tokens.MEMBER, root(shop).id);
    });

    it("lets support clone a customer's snapshot into the support organization, on the other host", async () => {
      const { createInstanceFromSnapshot } = await mustQuery(stack.url, support.token, CLONE, {
        input: { snapshotId: shopSnapshot, environmentId: support.environmentId, name: 'shop-debug', hostId: hostB },
      });
      expect(createInstanceFromSnapshot.instance).toMatchObject({
        name: 'shop-debug',
        state: 'CREATING',
        host: { id: hostB, name: 'kvm-b' },
        environment: { id: support.environmentId },
      });
      const clone = await waitStopped(support.token, createInstanceFromSnapshot.instance.id);
      expect(clone.volumes.map((v) => [v.name, v.type, v.state, v.sizeGiB, v.host.name])).toEqual([
        ['ROOT', 'ROOT', 'READY', 1, 'kvm-b'],
      ]);
      const cloneFile = fileOf(root(clone));
      expect(await hasPattern(cloneFile, CUSTOMER, 0, '4M')).toBe(true);
      expect(await hasPattern(cloneFile, CUSTOMER, '700M', '1M')).toBe(true);
      expect(await isStandaloneQcow2(cloneFile)).toBe(true);
      await expectClean(cloneFile, fileOf(root(shop)));
      expect(await diskSnapshotTags(storageOf('kvm-a'), root(shop).id)).toEqual([shopSnapshot]);
      expect(await readdir(`${stack.secondaryDir}/transfers`).catch(() => [])).toEqual([]);

      // Invisible to the customer, in every way the customer could look.
      for (const token of Object.values(customer.tokens)) {
        const { instances, volumes } = await mustQuery(
          stack.url,
          token,
          `{ instances(first: 100) { edges { node { id } } } volumes(first: 100) { edges { node { id } } } }`,
        );
        expect(ids(instances)).not.toContain(clone.id);
        expect(ids(volumes)).not.toContain(root(clone).id);
        expect(await instanceById(token, clone.id)).toBeNull();
        expect(await volumeById(token, root(clone).id)).toBeNull();
        const { node } = await mustQuery(stack.url, token, `query($id: ID!) { node(id: $id) { id } }`, {
          id: clone.id,
        });
        expect(node).toBeNull();
        expect(await events(token, { resourceId: clone.id })).toEqual([]);
        expect(await events(token, { type: 'INSTANCE_CLONED_ACROSS_ORGANIZATIONS' })).toEqual([]);
      }

      // The customer is told, in its own audit trail and to every one of its users: who cloned which of its
      // snapshots, when, and the clone's id (a handle it cannot open) — nothing about the support organization.
      const { viewer } = await mustQuery(stack.url, support.token, `{ viewer { user { email } } }`);
      const snapshotName = (await snapshotById(stack, customer.tokens.READ_ONLY, shopSnapshot))!.name as string;
      let customerEvent: Record<string, any> | undefined;
      for (const token of Object.values(customer.tokens)) {
        const told = await events(token, { resourceId: shopSnapshot, type: 'SNAPSHOT_CLONED_BY_SUPPORT' });
        expect(told).toHaveLength(1);
        expect(told[0]).toMatchObject({
          resourceType: 'Snapshot',
          resourceId: shopSnapshot,
          actorUserId: support.userId,
          details: {
            snapshotId: shopSnapshot,
            volumeId: root(shop).id,
            instanceId: shop.id,
            actorEmail: viewer.user.email,
            actorRole: 'SUPPORT',
            cloneInstanceId: clone.id,
          },
        });
        expect(told[0].message).toContain(viewer.user.email);
        expect(told[0].message).toContain(snapshotName);
        expect(JSON.stringify(told[0])).not.toContain(support.organizationId);
        expect(JSON.stringify(told[0])).not.toContain(support.environmentId);
        customerEvent = told[0];
      }

      // The support organization's trail shows the clone (its own) and a reference to the customer's event, and
      // nothing of the customer: its READ_ONLY and MEMBER users may not read the customer's organization.
      const supportReader = await createUserWithToken(stack, support.organizationId, 'READ_ONLY');
      const supportMember = await createUserWithToken(stack, support.organizationId, 'MEMBER');
      for (const token of [supportReader.token, supportMember.token, support.token, stack.adminToken]) {
        const recorded = await events(token, { resourceId: clone.id, type: 'INSTANCE_CLONED_ACROSS_ORGANIZATIONS' });
        expect(recorded).toHaveLength(1);
        expect(recorded[0]).toMatchObject({
          resourceType: 'Instance',
          resourceId: clone.id,
          actorUserId: support.userId,
          details: { sourceEventId: customerEvent!.id },
        });
        expect(recorded[0].message).toContain('shop-debug');
      }
      // (The names: the snapshot's auto-name carries the customer instance's name; "shop" alone is in "shop-debug".)
      const customerTraces = [customer.organizationId, shop.id, root(shop).id, shopSnapshot, snapshotName];
      for (const token of [supportReader.token, supportMember.token]) {
        const everything = JSON.stringify(await events(token, {}));
        expect(everything).toContain(clone.id);
        for (const trace of customerTraces) expect(everything).not.toContain(trace);
        // The reference leads nowhere for them; support staff and platform administrators can follow it.
        expect(await events(token, { resourceId: shopSnapshot })).toEqual([]);
      }
      for (const token of [support.token, stack.adminToken]) {
        const followed = await events(token, { resourceId: shopSnapshot, type: 'SNAPSHOT_CLONED_BY_SUPPORT' });
        expect(followed.map((e) => e.id)).toContain(customerEvent!.id);
      }
    });

    it("names nothing of the customer when a support clone fails: the clone's job error and events", async () => {
      // The customer's volume file missing makes the export on kvm-a fail; it is put back right after.
      const file = fileOf(root(shop));
      await rename(file, `${file}.aside`);
      let cloneId: string;
      let jobId: string;
      try {
        const { createInstanceFromSnapshot } = await mustQuery(stack.url, support.token, CLONE, {
          input: {
            snapshotId: shopSnapshot,
            environmentId: support.environmentId,
            name: `broken-${unique()}`,
            hostId: hostB,
          },
        });
        cloneId = createInstanceFromSnapshot.instance.id;
        jobId = createInstanceFromSnapshot.job.id;
        await eventually(
          async () => (await instanceById(support.token, cloneId))?.state === 'ERROR',
          30000,
          'the broken clone to be ERROR',
        );
      } finally {
        await rename(`${file}.aside`, file);
      }
      const reader = await createUserWithToken(stack, support.organizationId, 'READ_ONLY');
      const { job } = await mustQuery(stack.url, reader.token, `query($id: ID!) { job(id: $id) { status error } }`, {
        id: jobId,
      });
      expect(job.status).toBe('FAILED');
      // The agent named the customer's snapshot and volume; the job's organization reads placeholders.
      expect(job.error).toContain("<another organization's");
      const trail = await events(reader.token, { resourceId: cloneId });
      expect(trail.map((e) => e.type)).toEqual(
        expect.arrayContaining(['INSTANCE_FAILED', 'INSTANCE_CLONED_ACROSS_ORGANIZATIONS']),
      );
      for (const trace of [customer.organizationId, shop.id, root(shop).id, shopSnapshot]) {
        expect(job.error).not.toContain(trace);
        expect(JSON.stringify(trail)).not.toContain(trace);
      }
      // The customer was told of the attempt.
      const told = await events(customer.tokens.READ_ONLY, {
        resourceId: shopSnapshot,
        type: 'SNAPSHOT_CLONED_BY_SUPPORT',
      });
      expect(told.map((e) => e.details.cloneInstanceId)).toContain(cloneId);
    });

    it('refuses a MEMBER or ORG_ADMIN of another organization, and support into the customer environment (NOT_FOUND)', async () => {
      const before = await mustQuery(
        stack.url,
        stack.adminToken,
        `{ instances { totalCount } volumes { totalCount } }`,
      );
      for (const token of [other.tokens.MEMBER, other.tokens.ORG_ADMIN]) {
        const codes = await errorCodes(stack.url, token, CLONE, {
          input: { snapshotId: shopSnapshot, environmentId: other.environmentId, name: `peek-${unique()}` },
        });
        expect(codes).toEqual(['NOT_FOUND']);
      }
      expect(
        await errorCodes(stack.url, support.token, CLONE, {
          input: { snapshotId: shopSnapshot, environmentId: customer.environmentId, name: 'into-customer' },
        }),
      ).toEqual(['NOT_FOUND']);
      expect(
        await errorCodes(stack.url, customer.tokens.READ_ONLY, CLONE, {
          input: { snapshotId: shopSnapshot, environmentId: customer.environmentId, name: 'reader' },
        }),
      ).toEqual(['FORBIDDEN']);
      expect(
        await mustQuery(stack.url, stack.adminToken, `{ instances { totalCount } volumes { totalCount } }`),
      ).toEqual(before);
    });

    it.each([
      ['on the same host', 'kvm-a'],
      ['on the other host', 'kvm-b'],
    ])('lets a customer MEMBER clone its own snapshot into its own environment, %s', async (_label, hostName) => {
      const { createInstanceFromSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, CLONE, {
        input: {
          snapshotId: shopSnapshot,
          environmentId: customer.environmentId,
          name: `shop-copy-${hostName}`,
          hostId: await stack.hostId(hostName),
        },
      });
      const clone = await waitStopped(customer.tokens.MEMBER, createInstanceFromSnapshot.instance.id);
      expect(clone.host.name).toBe(hostName);
      expect(clone.environment.id).toBe(customer.environmentId);
      const cloneFile = fileOf(root(clone));
      expect(root(clone).host.name).toBe(hostName);
      expect(await hasPattern(cloneFile, CUSTOMER, 0, '4M')).toBe(true);
      expect(await hasPattern(cloneFile, CUSTOMER, '700M', '1M')).toBe(true);
      expect(await isStandaloneQcow2(cloneFile)).toBe(true);
      await expectClean(cloneFile, fileOf(root(shop)));
      const { instances } = await mustQuery(
        stack.url,
        customer.tokens.READ_ONLY,
        `{ instances(first: 100) { edges { node { id } } } }`,
      );
      expect(ids(instances)).toContain(clone.id);
      // Within one organization nothing crosses a boundary: no cross-organization event.
      expect(
        await events(stack.adminToken, { resourceId: clone.id, type: 'INSTANCE_CLONED_ACROSS_ORGANIZATIONS' }),
      ).toEqual([]);
    });

    it('refuses a clone named like an instance of the environment (CONFLICT), making nothing', async () => {
      const before = await mustQuery(
        stack.url,
        stack.adminToken,
        `{ instances { totalCount } volumes { totalCount } }`,
      );
      expect(
        await errorCodes(stack.url, customer.tokens.MEMBER, CLONE, {
          input: { snapshotId: shopSnapshot, environmentId: customer.environmentId, name: 'shop' },
        }),
      ).toEqual(['CONFLICT']);
      expect(
        await mustQuery(stack.url, stack.adminToken, `{ instances { totalCount } volumes { totalCount } }`),
      ).toEqual(before);
    });
  });

  describe('restoring a data disk: createVolumeFromSnapshot', () => {
    let db: Instance;
    let app: Instance;
    let dataSnapshot: string;

    beforeAll(async () => {
      db = await provision(customer, 'db', hostA, [1]);
      app = await provision(customer, 'app', hostB);
      await writePattern(fileOf(data(db)), RESTORE, 0, '4M');
      await writePattern(fileOf(data(db)), RESTORE, '1020M', '4M');
      dataSnapshot = await snapshot(customer.tokens.MEMBER, data(db).id);
      await writePattern(fileOf(data(db)), OVERWRITTEN, 0, '4M');
    });

    it('makes a READY DATADISK holding the snapshot, attached to an instance on the other host', async () => {
      const { createVolumeFromSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, VOLUME_FROM_SNAPSHOT, {
        input: { snapshotId: dataSnapshot, name: 'restored', instanceId: app.id },
      });
      expect(createVolumeFromSnapshot.volume).toMatchObject({
        name: 'restored',
        type: 'DATADISK',
        state: 'CREATING',
        instance: { id: app.id },
        host: { name: 'kvm-b' },
      });
      const restored = await waitForVolume(customer.tokens.MEMBER, createVolumeFromSnapshot.volume.id, 'READY');
      expect(restored).toMatchObject({
        type: 'DATADISK',
        sizeGiB: 1,
        instance: { id: app.id },
        host: { name: 'kvm-b' },
      });
      const restoredFile = fileOf(restored);
      expect(await hasPattern(restoredFile, RESTORE, 0, '4M')).toBe(true);
      expect(await hasPattern(restoredFile, RESTORE, '1020M', '4M')).toBe(true);
      expect(await hasPattern(restoredFile, OVERWRITTEN, 0, '4M')).toBe(false);
      expect(await isStandaloneQcow2(restoredFile)).toBe(true);
      await expectClean(restoredFile, fileOf(data(db)));
      expect(await fileExists(volumeFile(storageOf('kvm-a'), restored.id))).toBe(false);
      expect(await readdir(`${stack.secondaryDir}/transfers`).catch(() => [])).toEqual([]);

      const withIt = (await instanceById(customer.tokens.READ_ONLY, app.id))!;
      expect(withIt.state).toBe('STOPPED');
      expect(withIt.volumes.map((v) => v.id)).toEqual(expect.arrayContaining([root(app).id, restored.id]));
      const { volumes } = await mustQuery(
        stack.url,
        customer.tokens.READ_ONLY,
        `query($i: ID!) { volumes(filter: { instanceId: $i, type: DATADISK }) { edges { node { id } } } }`,
        { i: app.id },
      );
      expect(ids(volumes)).toEqual([restored.id]);
    });

    it('makes a detached DATADISK on the snapshot host when no instance is given', async () => {
      const { createVolumeFromSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, VOLUME_FROM_SNAPSHOT, {
        input: { snapshotId: dataSnapshot, name: 'loose' },
      });
      const loose = await waitForVolume(customer.tokens.MEMBER, createVolumeFromSnapshot.volume.id, 'READY');
      expect(loose).toMatchObject({ type: 'DATADISK', instance: null, host: { name: 'kvm-a' } });
      expect(await hasPattern(fileOf(loose), RESTORE, 0, '4M')).toBe(true);
      expect(await hasPattern(fileOf(loose), RESTORE, '1020M', '4M')).toBe(true);
      await expectClean(fileOf(loose));
    });

    it('refuses to delete the source snapshot, or destroy its instance, while the copy is CREATING (CONFLICT)', async () => {
      const volumeId = await whileAgentsStopped(['kvm-a'], async () => {
        const { createVolumeFromSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, VOLUME_FROM_SNAPSHOT, {
          input: { snapshotId: dataSnapshot, name: 'slow-copy' },
        });
        expect(createVolumeFromSnapshot.volume.state).toBe('CREATING');
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, DELETE_SNAPSHOT, { id: dataSnapshot })).toEqual([
          'CONFLICT',
        ]);
        expect(
          await errorCodes(stack.url, customer.tokens.MEMBER, DESTROY, {
            input: { instanceId: db.id, expungeSnapshots: true },
          }),
        ).toEqual(['CONFLICT']);
        expect(await snapshotById(stack, customer.tokens.MEMBER, dataSnapshot)).toMatchObject({ state: 'COMPLETED' });
        return createVolumeFromSnapshot.volume.id as string;
      });
      const copy = await waitForVolume(customer.tokens.MEMBER, volumeId, 'READY');
      expect(await hasPattern(fileOf(copy), RESTORE, 0, '4M')).toBe(true);
      expect(await diskSnapshotTags(storageOf('kvm-a'), data(db).id)).toEqual([dataSnapshot]);
      await expectClean(fileOf(copy), fileOf(data(db)));
    });

    it("treats another organization's snapshot or instance as NOT_FOUND", async () => {
      const before = await mustQuery(stack.url, stack.adminToken, `{ volumes { totalCount } }`);
      expect(
        await errorCodes(stack.url, other.tokens.MEMBER, VOLUME_FROM_SNAPSHOT, {
          input: { snapshotId: dataSnapshot, name: 'theirs' },
        }),
      ).toEqual(['NOT_FOUND']);
      const foreign = await provision(other, 'foreign', hostB);
      expect(
        await errorCodes(stack.url, customer.tokens.MEMBER, VOLUME_FROM_SNAPSHOT, {
          input: { snapshotId: dataSnapshot, name: 'into-foreign', instanceId: foreign.id },
        }),
      ).toEqual(['NOT_FOUND']);
      const after = await mustQuery(stack.url, stack.adminToken, `{ volumes { totalCount } }`);
      expect(after.volumes.totalCount).toBe(before.volumes.totalCount + foreign.volumes.length);
    });
  });

  describe('destroyInstance', () => {
    let old: Instance;
    let rootSnapshot: string;
    let dataSnapshot: string;
    let templateId: string;
    let attached: Volume;

    beforeAll(async () => {
      old = await provision(customer, 'old', hostA, [1]);
      await writePattern(fileOf(root(old)), DOOMED, 0, '4M');
      rootSnapshot = await snapshot(customer.tokens.MEMBER, root(old).id);
      dataSnapshot = await snapshot(customer.tokens.MEMBER, data(old).id);
      const { createTemplateFromSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, CREATE_TEMPLATE, {
        input: { snapshotId: rootSnapshot, name: 'from-old' },
      });
      templateId = createTemplateFromSnapshot.template.id;
      await eventually(
        async () => {
          const { template } = await mustQuery(
            stack.url,
            customer.tokens.MEMBER,
            `query($id: ID!) { template(id: $id) { state } }`,
            {
              id: templateId,
            },
          );
          if (template.state === 'ERROR') throw new Error('template failed');
          return template.state === 'READY';
        },
        30000,
        'template to be READY',
      );
      // A disk restored onto the instance is one of its volumes too, and goes with it.
      const { createVolumeFromSnapshot } = await mustQuery(stack.url, customer.tokens.MEMBER, VOLUME_FROM_SNAPSHOT, {
        input: { snapshotId: dataSnapshot, name: 'restored', instanceId: old.id },
      });
      attached = await waitForVolume(customer.tokens.MEMBER, createVolumeFromSnapshot.volume.id, 'READY');
      old = (await instanceById(customer.tokens.MEMBER, old.id))!;
    });

    it('is refused with PRECONDITION_FAILED while snapshots exist, changing nothing', async () => {
      const before = await instanceById(customer.tokens.MEMBER, old.id);
      for (const input of [{ instanceId: old.id }, { instanceId: old.id, expungeSnapshots: false }]) {
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, DESTROY, { input })).toEqual([
          'PRECONDITION_FAILED',
        ]);
      }
      expect(await instanceById(customer.tokens.MEMBER, old.id)).toEqual(before);
      expect(before!.volumes).toHaveLength(3);
      for (const id of [rootSnapshot, dataSnapshot])
        expect(await snapshotById(stack, customer.tokens.MEMBER, id)).toMatchObject({ state: 'COMPLETED' });
      for (const volume of before!.volumes) expect(await fileExists(fileOf(volume))).toBe(true);
      expect(await diskSnapshotTags(storageOf('kvm-a'), root(old).id)).toEqual([rootSnapshot]);
    });

    it('with expungeSnapshots: DESTROYING at once, then the instance, its volumes, snapshots and files are gone', async () => {
      const job = await whileAgentsStopped(['kvm-a'], async () => {
        const { destroyInstance } = await mustQuery(stack.url, customer.tokens.MEMBER, DESTROY, {
          input: { instanceId: old.id, expungeSnapshots: true },
        });
        expect(destroyInstance.instance).toEqual({ id: old.id, state: 'DESTROYING' });
        // While it goes, nothing else may start on it.
        const destroying = (await instanceById(customer.tokens.MEMBER, old.id))!;
        expect(destroying.volumes.map((v) => v.state)).toEqual(['DESTROYING', 'DESTROYING', 'DESTROYING']);
        expect(await snapshotById(stack, customer.tokens.MEMBER, rootSnapshot)).toMatchObject({ state: 'DESTROYING' });
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, CREATE_SNAPSHOT, { v: root(old).id })).toEqual([
          'CONFLICT',
        ]);
        expect(await errorCodes(stack.url, customer.tokens.MEMBER, REVERT, { id: rootSnapshot })).toEqual(['CONFLICT']);
        expect(
          await errorCodes(stack.url, customer.tokens.MEMBER, CLONE, {
            input: { snapshotId: rootSnapshot, environmentId: customer.environmentId, name: 'rescue' },
          }),
        ).toEqual(['CONFLICT']);
        return destroyInstance.job.id as string;
      });

      await waitForInstance(customer.tokens.MEMBER, old.id, null);
      expect(await jobStatus(job)).toBe('SUCCEEDED');
      const { instances, volumes, snapshots } = await mustQuery(
        stack.url,
        stack.adminToken,
        `query($i: ID!) {
          instances(first: 100) { edges { node { id } } }
          volumes(filter: { instanceId: $i }) { totalCount }
          snapshots(filter: { instanceId: $i }) { totalCount }
        }`,
        { i: old.id },
      );
      expect(ids(instances)).not.toContain(old.id);
      expect(volumes.totalCount).toBe(0);
      expect(snapshots.totalCount).toBe(0);
      for (const volume of old.volumes) {
        expect(await volumeById(stack.adminToken, volume.id)).toBeNull();
        expect(await fileExists(fileOf(volume))).toBe(false);
      }
      expect(attached.instance).toEqual({ id: old.id });
      for (const id of [rootSnapshot, dataSnapshot]) expect(await snapshotById(stack, stack.adminToken, id)).toBeNull();
      expect(await events(customer.tokens.READ_ONLY, { resourceId: old.id, type: 'INSTANCE_DESTROYED' })).toHaveLength(
        1,
      );
    });

    it('leaves a template made from one of its snapshots whole: it still deploys with the data', async () => {
      expect(await fileExists(templateFile(stack.secondaryDir, templateId))).toBe(true);
      await expectClean(templateFile(stack.secondaryDir, templateId));
      const { deployInstance } = await mustQuery(stack.url, customer.tokens.MEMBER, DEPLOY, {
        input: { templateId, environmentId: customer.environmentId, name: 'reborn', hostId: hostB },
      });
      const reborn = await waitStopped(customer.tokens.MEMBER, deployInstance.instance.id);
      expect(await hasPattern(fileOf(root(reborn)), DOOMED, 0, '4M')).toBe(true);
      await expectClean(fileOf(root(reborn)));
    });

    it('destroys an instance without snapshots at once, and its files', async () => {
      const plain = await provision(customer, `plain-${unique()}`, hostB, [1]);
      const { destroyInstance } = await mustQuery(stack.url, customer.tokens.MEMBER, DESTROY, {
        input: { instanceId: plain.id },
      });
      expect(destroyInstance.instance.state).toBe('DESTROYING');
      await waitForInstance(customer.tokens.MEMBER, plain.id, null);
      for (const volume of plain.volumes) expect(await fileExists(fileOf(volume))).toBe(false);
    });

    it("treats another organization's instance as NOT_FOUND, to SUPPORT too; READ_ONLY may not destroy (FORBIDDEN)", async () => {
      const target = await provision(customer, `keep-${unique()}`, hostA);
      for (const token of [other.tokens.MEMBER, other.tokens.ORG_ADMIN, support.token])
        expect(await errorCodes(stack.url, token, DESTROY, { input: { instanceId: target.id } })).toEqual([
          'NOT_FOUND',
        ]);
      expect(
        await errorCodes(stack.url, customer.tokens.READ_ONLY, DESTROY, { input: { instanceId: target.id } }),
      ).toEqual(['FORBIDDEN']);
      expect(await instanceById(customer.tokens.MEMBER, target.id)).toMatchObject({ state: 'STOPPED' });
      expect(await fileExists(fileOf(root(target)))).toBe(true);
    });

    // Destroying a RUNNING instance (PRECONDITION_FAILED): test/instance-lifecycle.e2e-spec.ts.
  });

  /**
   * A copy holds a share lock on its source row and a delete an exclusive one, so sent together exactly one
   * side is accepted. With the agents stopped nothing runs meanwhile, so what was accepted is what the api
   * decided; a few rounds make a race all but certain to show if the locking regressed.
   */
  describe('a copy and the removal of its source, sent together', () => {
    let racer: Instance;
    const ROUNDS = 5;

    beforeAll(async () => {
      racer = await provision(customer, 'racer', hostA);
    });
    afterEach(() => settle());

    /** Sends `removal` and four `copy` requests at once, with the agents stopped; says what was accepted. */
    async function race(
      hosts: string[],
      removal: () => Promise<GraphQLResponse<unknown>>,
      copies: Array<() => Promise<GraphQLResponse<unknown>>>,
    ) {
      return whileAgentsStopped(hosts, async () => {
        const [removed, ...copied] = await Promise.all([removal(), ...copies.map((copy) => copy())]);
        const removalAccepted = !removed.errors?.length;
        const copiesAccepted = copied.filter((c) => !c.errors?.length).length;
        // Either the removal waits for the copies (CONFLICT), or the copies come after it (refused): never both.
        return { removalAccepted, copiesAcceptedWithIt: removalAccepted ? copiesAccepted : 0 };
      });
    }

    const COPIES: Record<string, (snapshotId: string) => Promise<GraphQLResponse<unknown>>> = {
      createVolumeFromSnapshot: (snapshotId) =>
        graphql(stack.url, customer.tokens.MEMBER, VOLUME_FROM_SNAPSHOT, {
          input: { snapshotId, name: `race-${unique()}` },
        }),
      createTemplateFromSnapshot: (snapshotId) =>
        graphql(stack.url, customer.tokens.MEMBER, CREATE_TEMPLATE, {
          input: { snapshotId, name: `race-${unique()}` },
        }),
      createInstanceFromSnapshot: (snapshotId) =>
        graphql(stack.url, customer.tokens.MEMBER, CLONE, {
          input: { snapshotId, environmentId: customer.environmentId, name: `race-${unique()}`, hostId: hostB },
        }),
    };

    it.each(Object.keys(COPIES))('never accepts deleteSnapshot together with %s from it', async (copy) => {
      for (let round = 0; round < ROUNDS; round++) {
        const snapshotId = await snapshot(customer.tokens.MEMBER, root(racer).id);
        const accepted = await race(
          ['kvm-a', 'kvm-b'],
          () => graphql(stack.url, customer.tokens.MEMBER, DELETE_SNAPSHOT, { id: snapshotId }),
          Array.from({ length: 4 }, () => () => COPIES[copy](snapshotId)),
        );
        expect({ round, ...accepted }).toEqual({
          round,
          removalAccepted: accepted.removalAccepted,
          copiesAcceptedWithIt: 0,
        });
        await settle();
      }
    });

    it('never accepts destroyInstance together with a snapshot of one of its volumes', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const target = await provision(customer, `race-${unique()}`, hostA, [1, 1]);
        const accepted = await race(
          ['kvm-a'],
          () =>
            graphql(stack.url, customer.tokens.MEMBER, DESTROY, {
              input: { instanceId: target.id, expungeSnapshots: true },
            }),
          target.volumes.map((v) => () => graphql(stack.url, customer.tokens.MEMBER, CREATE_SNAPSHOT, { v: v.id })),
        );
        expect({ round, ...accepted }).toEqual({
          round,
          removalAccepted: accepted.removalAccepted,
          copiesAcceptedWithIt: 0,
        });
        await settle();
      }
    });
  });
});
