/**
 * Tenant isolation over GraphQL: another organization's resources are NOT_FOUND (or null / absent from lists),
 * never FORBIDDEN, and a refused request changes nothing. Platform administrators see every organization;
 * support staff read every organization but may not change another one's resources: NOT_FOUND too, as for
 * anything a caller may not act on outside its organization (their one exception, createInstanceFromSnapshot
 * into their own organization, is in use-cases.e2e-spec.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describeWith } from '@snapdeck/testing';
import { diskSnapshotTags } from './support/disk.js';
import { eventually, graphql, mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { waitForSnapshot } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, createUserWithToken, type Tenant } from './support/tenants.js';

type OrgRole = 'ORG_ADMIN' | 'MEMBER' | 'READ_ONLY';
const ORG_ROLES: OrgRole[] = ['ORG_ADMIN', 'MEMBER', 'READ_ONLY'];
/** Roles that may write in their own organization, and roles that may manage it. */
const WRITERS: OrgRole[] = ['ORG_ADMIN', 'MEMBER'];
const MANAGERS: OrgRole[] = ['ORG_ADMIN'];

interface Owned {
  tenant: Tenant;
  instanceId: string;
  instanceJobId: string;
  volumeIds: string[];
  rootVolumeId: string;
  snapshotId: string;
  snapshotJobId: string;
}

const unique = () => randomBytes(4).toString('hex');

interface Connection {
  totalCount: number;
  edges: Array<{ node: { id: string } }>;
}
interface IdAndJob {
  job: { id: string };
}
interface ProvisionedInstance {
  id: string;
  state: string;
  volumes: Array<{ id: string; type: string }>;
}
type Data = Record<string, unknown>;

const CREATE_INSTANCE = `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } job { id } } }`;
const CREATE_SNAPSHOT = `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { id } job { id } } }`;
const DELETE_SNAPSHOT = `mutation($id: ID!) { deleteSnapshot(input: { snapshotId: $id }) { snapshot { id state } job { id } } }`;
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`;
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`;
const CREATE_ENVIRONMENT = `mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { environment { id } } }`;

const codesOf = (response: GraphQLResponse<unknown>) =>
  (response.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');
const ids = (connection: { edges: Array<{ node: { id: string } }> }) => connection.edges.map((e) => e.node.id);

describeWith(['redis', 'qemu-img'], 'tenant isolation', () => {
  let stack: Stack;
  let storageDir: string;
  let a: Owned;
  let b: Owned;
  let support: { organizationId: string; userId: string; token: string };
  /** Everything of A's that a refused request could have changed, taken before any test ran. */
  let aBefore: unknown;

  /** An instance with a ROOT and a DATA-1 volume, and one COMPLETED snapshot of its ROOT volume. */
  async function provision(tenant: Tenant, name: string): Promise<Owned> {
    const token = tenant.tokens.MEMBER;
    const { createInstance } = await mustQuery<{ createInstance: IdAndJob & { instance: { id: string } } }>(
      stack.url,
      token,
      CREATE_INSTANCE,
      {
        input: { environmentId: tenant.environmentId, name, rootDiskSizeGiB: 1, dataDiskSizesGiB: [1] },
      },
    );
    const instance = await eventually(
      async () => {
        const { instance } = await mustQuery<{ instance: ProvisionedInstance }>(
          stack.url,
          token,
          `query($id: ID!) { instance(id: $id) { id state volumes { id type } } }`,
          {
            id: createInstance.instance.id,
          },
        );
        if (instance.state === 'ERROR') throw new Error(`instance ${name} failed to provision`);
        return instance.state === 'STOPPED' ? instance : null;
      },
      20000,
      `instance ${name} to be STOPPED`,
    );
    const rootVolumeId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
    const { createSnapshot } = await mustQuery<{ createSnapshot: IdAndJob & { snapshot: { id: string } } }>(
      stack.url,
      token,
      CREATE_SNAPSHOT,
      { input: { volumeId: rootVolumeId, name: `${name}-snap` } },
    );
    await waitForSnapshot(stack, token, createSnapshot.snapshot.id, 'COMPLETED');
    return {
      tenant,
      instanceId: instance.id,
      instanceJobId: createInstance.job.id,
      volumeIds: instance.volumes.map((v) => v.id).sort(),
      rootVolumeId,
      snapshotId: createSnapshot.snapshot.id,
      snapshotJobId: createSnapshot.job.id,
    };
  }

  /** What the owner (and the disk) says about its organization: lists with states, and the disk tags. */
  async function fingerprint(owner: Owned) {
    const data = await mustQuery<Data>(
      stack.url,
      owner.tenant.tokens.ORG_ADMIN,
      `{
        environments(first: 100) { totalCount edges { node { id name } } }
        instances(first: 100) { totalCount edges { node { id name state } } }
        volumes(first: 100) { totalCount edges { node { id name state } } }
        snapshots(first: 100) { totalCount edges { node { id name state } } }
      }`,
    );
    const tags: Record<string, string[]> = {};
    for (const volumeId of owner.volumeIds) tags[volumeId] = await diskSnapshotTags(storageDir, volumeId);
    return { ...data, tags };
  }

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a'] });
    storageDir = stack.agents.get('kvm-a')!.storageDir;
    const [tenantA, tenantB] = [await createTenant(stack, `a-${unique()}`), await createTenant(stack, `b-${unique()}`)];
    a = await provision(tenantA, 'a-web');
    b = await provision(tenantB, 'b-web');
    const { createOrganization } = await mustQuery<{ createOrganization: { organization: { id: string } } }>(
      stack.url,
      stack.adminToken,
      `mutation($name: String!) { createOrganization(input: { name: $name }) { organization { id } } }`,
      { name: `support-${unique()}` },
    );
    const supportUser = await createUserWithToken(stack, createOrganization.organization.id, 'SUPPORT');
    support = { organizationId: createOrganization.organization.id, ...supportUser };
    aBefore = await fingerprint(a);
  });
  afterAll(() => stack?.close());

  describe("B's tokens do not see A", () => {
    it.each(ORG_ROLES)('viewer of B %s is B: its own user and organization', async (role) => {
      const { viewer } = await mustQuery(
        stack.url,
        b.tenant.tokens[role],
        `{ viewer { user { id role } organization { id } } }`,
      );
      expect(viewer).toEqual({
        user: { id: b.tenant.userIds[role], role },
        organization: { id: b.tenant.organizationId },
      });
    });

    /** Each list, with the filters that point at A's resources or at none: B sees exactly its own. */
    const lists: Array<[string, string, (o: Owned) => Record<string, unknown> | null, (self: Owned) => string[]]> = [
      ['environments', 'environments', () => null, (self) => [self.tenant.environmentId]],
      ['instances', 'instances', () => null, (self) => [self.instanceId]],
      ['instances by A environment', 'instances', (o) => ({ environmentId: o.tenant.environmentId }), () => []],
      ['volumes', 'volumes', () => null, (self) => self.volumeIds],
      ['volumes by A environment', 'volumes', (o) => ({ environmentId: o.tenant.environmentId }), () => []],
      ['volumes by A instance', 'volumes', (o) => ({ instanceId: o.instanceId }), () => []],
      ['volumes by type ROOT', 'volumes', () => ({ type: 'ROOT' }), (self) => [self.rootVolumeId]],
      ['snapshots', 'snapshots', () => null, (self) => [self.snapshotId]],
      ['snapshots by A environment', 'snapshots', (o) => ({ environmentId: o.tenant.environmentId }), () => []],
      ['snapshots by A instance', 'snapshots', (o) => ({ instanceId: o.instanceId }), () => []],
      ['snapshots by A volume', 'snapshots', (o) => ({ volumeId: o.rootVolumeId }), () => []],
      ['snapshots by states [COMPLETED]', 'snapshots', () => ({ states: ['COMPLETED'] }), (self) => [self.snapshotId]],
      [
        'snapshots by states [IN_PROGRESS, COMPLETED, DESTROYING, ERROR]',
        'snapshots',
        () => ({ states: ['IN_PROGRESS', 'COMPLETED', 'DESTROYING', 'ERROR'] }),
        (self) => [self.snapshotId],
      ],
    ];
    const filterType: Record<string, string> = {
      instances: 'InstanceFilter',
      volumes: 'VolumeFilter',
      snapshots: 'SnapshotFilter',
    };

    it.each(lists)(
      '%s: B lists only its own, totalCount counts only its own',
      async (_label, field, filterOf, expected) => {
        const filter = filterOf(a);
        const query =
          field === 'environments'
            ? `{ environments(first: 100) { totalCount edges { node { id } } } }`
            : `query($filter: ${filterType[field]}) { ${field}(filter: $filter, first: 100) { totalCount edges { node { id } } } }`;
        for (const role of ORG_ROLES) {
          const data = await mustQuery<Record<string, Connection>>(
            stack.url,
            b.tenant.tokens[role],
            query,
            filter ? { filter } : {},
          );
          const seen = ids(data[field]);
          expect(seen.sort()).toEqual(expected(b).sort());
          expect(data[field].totalCount).toBe(expected(b).length);
        }
        // The same query by A's own reader finds A's resources: the filters above did point at something.
        const own = await mustQuery<Record<string, Connection>>(
          stack.url,
          a.tenant.tokens.READ_ONLY,
          query,
          filter ? { filter } : {},
        );
        expect(ids(own[field]).length).toBeGreaterThan(0);
      },
    );

    const byId: Array<[string, string, (o: Owned) => string]> = [
      ['snapshot', 'snapshot', (o) => o.snapshotId],
      ['volume (ROOT)', 'volume', (o) => o.rootVolumeId],
      ['volume (DATA-1)', 'volume', (o) => o.volumeIds.find((id) => id !== o.rootVolumeId)!],
      ['instance', 'instance', (o) => o.instanceId],
      ['job of createInstance', 'job', (o) => o.instanceJobId],
      ['job of createSnapshot', 'job', (o) => o.snapshotJobId],
      ['node: snapshot', 'node', (o) => o.snapshotId],
      ['node: volume', 'node', (o) => o.rootVolumeId],
      ['node: instance', 'node', (o) => o.instanceId],
      ['node: environment', 'node', (o) => o.tenant.environmentId],
      ['node: job', 'node', (o) => o.snapshotJobId],
      ['node: user', 'node', (o) => o.tenant.userIds.ORG_ADMIN],
      ['node: organization', 'node', (o) => o.tenant.organizationId],
    ];

    it.each(byId)("%s of A by id is null for every B token (and found by A's reader)", async (_label, field, idOf) => {
      const query = `query($id: ID!) { ${field}(id: $id) { id } }`;
      const id = idOf(a);
      for (const role of ORG_ROLES) {
        const response = await graphql(stack.url, b.tenant.tokens[role], query, { id });
        expect(response.errors).toBeUndefined();
        expect(response.data).toEqual({ [field]: null });
      }
      expect((await mustQuery(stack.url, a.tenant.tokens.READ_ONLY, query, { id }))[field]).toEqual({ id });
    });

    it("B's own snapshot does not lead into A through nested fields", async () => {
      const { snapshot } = await mustQuery<{
        snapshot: {
          volume: { snapshots: Connection };
          instance: { id: string; volumes: Array<{ id: string }> };
          environment: { id: string };
        };
      }>(
        stack.url,
        b.tenant.tokens.READ_ONLY,
        `query($id: ID!) { snapshot(id: $id) { volume { id snapshots(first: 100) { totalCount edges { node { id } } } } instance { id volumes { id } } environment { id } } }`,
        { id: b.snapshotId },
      );
      expect(snapshot.volume.snapshots.totalCount).toBe(1);
      expect(ids(snapshot.volume.snapshots)).toEqual([b.snapshotId]);
      expect(snapshot.instance.id).toBe(b.instanceId);
      expect(snapshot.instance.volumes.map((v) => v.id).sort()).toEqual(b.volumeIds);
      expect(snapshot.environment.id).toBe(b.tenant.environmentId);
    });
  });

  describe("B's mutations on A's resources are NOT_FOUND and change nothing", () => {
    interface Attack {
      label: string;
      roles: OrgRole[];
      run: (token: string, victim: Owned, targetId?: string) => Promise<GraphQLResponse<Data>>;
      /** The id this mutation names, so a random id can be tried for comparison. */
      target: (victim: Owned) => string;
      field: string;
    }
    const attacks: Attack[] = [
      {
        label: "createInstance into A's environment",
        roles: WRITERS,
        field: 'createInstance',
        target: (v) => v.tenant.environmentId,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_INSTANCE, {
            input: { environmentId: id ?? v.tenant.environmentId, name: `intruder-${unique()}`, rootDiskSizeGiB: 1 },
          }),
      },
      {
        label: "createSnapshot of A's volume",
        roles: WRITERS,
        field: 'createSnapshot',
        target: (v) => v.rootVolumeId,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_SNAPSHOT, { input: { volumeId: id ?? v.rootVolumeId, name: 'intruder' } }),
      },
      {
        label: "createSnapshot of A's volume, automatic name",
        roles: WRITERS,
        field: 'createSnapshot',
        target: (v) => v.volumeIds.find((id) => id !== v.rootVolumeId)!,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_SNAPSHOT, {
            input: { volumeId: id ?? v.volumeIds.find((x) => x !== v.rootVolumeId) },
          }),
      },
      {
        label: "deleteSnapshot of A's snapshot",
        roles: WRITERS,
        field: 'deleteSnapshot',
        target: (v) => v.snapshotId,
        run: (token, v, id) => graphql(stack.url, token, DELETE_SNAPSHOT, { id: id ?? v.snapshotId }),
      },
      {
        label: "createUser (MEMBER) into A's organization",
        roles: MANAGERS,
        field: 'createUser',
        target: (v) => v.tenant.organizationId,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_USER, {
            input: {
              organizationId: id ?? v.tenant.organizationId,
              email: `intruder-${unique()}@example.test`,
              role: 'MEMBER',
            },
          }),
      },
      {
        label: "createUser (ORG_ADMIN) into A's organization",
        roles: MANAGERS,
        field: 'createUser',
        target: (v) => v.tenant.organizationId,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_USER, {
            input: {
              organizationId: id ?? v.tenant.organizationId,
              email: `intruder-${unique()}@example.test`,
              role: 'ORG_ADMIN',
            },
          }),
      },
      {
        label: "createApiToken for A's ORG_ADMIN",
        roles: MANAGERS,
        field: 'createApiToken',
        target: (v) => v.tenant.userIds.ORG_ADMIN,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_TOKEN, {
            input: { userId: id ?? v.tenant.userIds.ORG_ADMIN, name: 'intruder' },
          }),
      },
      {
        label: "createApiToken for A's READ_ONLY user",
        roles: MANAGERS,
        field: 'createApiToken',
        target: (v) => v.tenant.userIds.READ_ONLY,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_TOKEN, {
            input: { userId: id ?? v.tenant.userIds.READ_ONLY, name: 'intruder' },
          }),
      },
      {
        label: "createEnvironment with A's organizationId",
        roles: MANAGERS,
        field: 'createEnvironment',
        target: (v) => v.tenant.organizationId,
        run: (token, v, id) =>
          graphql(stack.url, token, CREATE_ENVIRONMENT, {
            input: { name: `intruder-${unique()}`, organizationId: id ?? v.tenant.organizationId },
          }),
      },
    ];

    const cells = attacks.flatMap((attack) => attack.roles.map((role) => ({ ...attack, role })));

    it.each(cells)(
      '$label by B $role: NOT_FOUND, like an id that does not exist',
      async ({ role, run, target, field }) => {
        const token = b.tenant.tokens[role];
        const bBefore = await fingerprint(b);
        const response = await run(token, a);
        expect(codesOf(response)).toEqual(['NOT_FOUND']);
        expect(response.data?.[field] ?? null).toBeNull();
        // The answer does not tell A's resource from one that does not exist.
        const missing = randomUUID();
        const control = await run(token, a, missing);
        expect(codesOf(control)).toEqual(['NOT_FOUND']);
        expect(response.errors![0].message.replace(target(a), '<id>')).toBe(
          control.errors![0].message.replace(missing, '<id>'),
        );
        expect(await fingerprint(a)).toEqual(aBefore);
        expect(await fingerprint(b)).toEqual(bBefore);
      },
    );

    // Roles that may not write at all are refused for their role, whatever they name: FORBIDDEN for A's
    // resource exactly as for one that does not exist, so even this answer does not leak existence.
    const roleRefused = attacks.flatMap((attack) =>
      ORG_ROLES.filter((role) => !attack.roles.includes(role)).map((role) => ({ ...attack, role })),
    );
    it.each(roleRefused)(
      '$label by B $role: refused for the role, the same for a missing id',
      async ({ role, run }) => {
        const token = b.tenant.tokens[role];
        const response = await run(token, a);
        const control = await run(token, a, randomUUID());
        expect(codesOf(response)).toEqual(['FORBIDDEN']);
        expect(codesOf(control)).toEqual(codesOf(response));
        expect(response.errors![0].message).toBe(control.errors![0].message);
        expect(await fingerprint(a)).toEqual(aBefore);
      },
    );

    it("createUser into A's organization refused: the email stays free (no user was made)", async () => {
      const email = `probe-${unique()}@example.test`;
      const refused = await graphql(stack.url, b.tenant.tokens.ORG_ADMIN, CREATE_USER, {
        input: { organizationId: a.tenant.organizationId, email, role: 'MEMBER' },
      });
      expect(codesOf(refused)).toEqual(['NOT_FOUND']);
      // Emails are unique: had the refused request made the user, this would be CONFLICT.
      const { createUser } = await mustQuery<{ createUser: { user: { id: string } } }>(
        stack.url,
        a.tenant.tokens.ORG_ADMIN,
        CREATE_USER,
        {
          input: { organizationId: a.tenant.organizationId, email, role: 'MEMBER' },
        },
      );
      expect(createUser.user.id).toEqual(expect.any(String));
    });

    it("createUser of a PLATFORM_ADMIN into A's organization by B's ORG_ADMIN is NOT_FOUND too", async () => {
      const response = await graphql(stack.url, b.tenant.tokens.ORG_ADMIN, CREATE_USER, {
        input: {
          organizationId: a.tenant.organizationId,
          email: `intruder-${unique()}@example.test`,
          role: 'PLATFORM_ADMIN',
        },
      });
      expect(codesOf(response)).toEqual(['NOT_FOUND']);
    });

    it("the other way round: A's ORG_ADMIN and MEMBER cannot reach B's organization either", async () => {
      const bBefore = await fingerprint(b);
      const env = await graphql(stack.url, a.tenant.tokens.ORG_ADMIN, CREATE_ENVIRONMENT, {
        input: { name: `intruder-${unique()}`, organizationId: b.tenant.organizationId },
      });
      const user = await graphql(stack.url, a.tenant.tokens.ORG_ADMIN, CREATE_USER, {
        input: {
          organizationId: b.tenant.organizationId,
          email: `intruder-${unique()}@example.test`,
          role: 'READ_ONLY',
        },
      });
      const token = await graphql(stack.url, a.tenant.tokens.ORG_ADMIN, CREATE_TOKEN, {
        input: { userId: b.tenant.userIds.MEMBER, name: 'x' },
      });
      const instance = await graphql(stack.url, a.tenant.tokens.MEMBER, CREATE_INSTANCE, {
        input: { environmentId: b.tenant.environmentId, name: 'intruder', rootDiskSizeGiB: 1 },
      });
      const snapshot = await graphql(stack.url, a.tenant.tokens.MEMBER, CREATE_SNAPSHOT, {
        input: { volumeId: b.rootVolumeId },
      });
      const deleted = await graphql(stack.url, a.tenant.tokens.MEMBER, DELETE_SNAPSHOT, { id: b.snapshotId });
      for (const response of [env, user, token, instance, snapshot, deleted])
        expect(codesOf(response)).toEqual(['NOT_FOUND']);
      expect(await fingerprint(b)).toEqual(bBefore);
    });
  });

  describe('platform administrator', () => {
    it('lists both organizations, their instances, volumes and snapshots', async () => {
      const data = await mustQuery<
        Record<'organizations' | 'environments' | 'instances' | 'volumes' | 'snapshots', Connection>
      >(
        stack.url,
        stack.adminToken,
        `{
          organizations(first: 100) { totalCount edges { node { id } } }
          environments(first: 100) { edges { node { id } } }
          instances(first: 100) { totalCount edges { node { id } } }
          volumes(first: 100) { totalCount edges { node { id } } }
          snapshots(first: 100) { totalCount edges { node { id } } }
        }`,
      );
      expect(ids(data.organizations)).toEqual(
        expect.arrayContaining([a.tenant.organizationId, b.tenant.organizationId, support.organizationId]),
      );
      expect(ids(data.environments)).toEqual(expect.arrayContaining([a.tenant.environmentId, b.tenant.environmentId]));
      expect(ids(data.instances)).toEqual(expect.arrayContaining([a.instanceId, b.instanceId]));
      expect(ids(data.volumes)).toEqual(expect.arrayContaining([...a.volumeIds, ...b.volumeIds]));
      expect(ids(data.snapshots)).toEqual(expect.arrayContaining([a.snapshotId, b.snapshotId]));
      expect(data.snapshots.totalCount).toBeGreaterThanOrEqual(2);
      expect(data.instances.totalCount).toBeGreaterThanOrEqual(2);
    });

    it("reads A's and B's resources by id", async () => {
      for (const owner of [a, b]) {
        const data = await mustQuery<Data>(
          stack.url,
          stack.adminToken,
          `query($s: ID!, $v: ID!, $i: ID!, $j: ID!) { snapshot(id: $s) { id } volume(id: $v) { id } instance(id: $i) { id } job(id: $j) { id } node(id: $s) { id } }`,
          { s: owner.snapshotId, v: owner.rootVolumeId, i: owner.instanceId, j: owner.snapshotJobId },
        );
        expect(data).toEqual({
          snapshot: { id: owner.snapshotId },
          volume: { id: owner.rootVolumeId },
          instance: { id: owner.instanceId },
          job: { id: owner.snapshotJobId },
          node: { id: owner.snapshotId },
        });
      }
    });
  });

  describe('support', () => {
    it("reads A's and B's snapshots and instances", async () => {
      for (const owner of [a, b]) {
        const data = await mustQuery<{ snapshot: Data; instance: { id: string; volumes: Array<{ id: string }> } }>(
          stack.url,
          support.token,
          `query($s: ID!, $i: ID!) { snapshot(id: $s) { id state } instance(id: $i) { id volumes { id } } }`,
          { s: owner.snapshotId, i: owner.instanceId },
        );
        expect(data.snapshot).toEqual({ id: owner.snapshotId, state: 'COMPLETED' });
        expect(data.instance.id).toBe(owner.instanceId);
        expect(data.instance.volumes.map((v) => v.id).sort()).toEqual(owner.volumeIds);
      }
      const lists = await mustQuery<Record<'snapshots' | 'instances', Connection>>(
        stack.url,
        support.token,
        `{ snapshots(first: 100) { edges { node { id } } } instances(first: 100) { edges { node { id } } } }`,
      );
      expect(ids(lists.snapshots)).toEqual(expect.arrayContaining([a.snapshotId, b.snapshotId]));
      expect(ids(lists.instances)).toEqual(expect.arrayContaining([a.instanceId, b.instanceId]));
    });

    it("deleting A's snapshot is NOT_FOUND (though it can see it), worded as for a missing id, and changes nothing", async () => {
      const response = await graphql(stack.url, support.token, DELETE_SNAPSHOT, { id: a.snapshotId });
      expect(codesOf(response)).toEqual(['NOT_FOUND']);
      const missing = randomUUID();
      const control = await graphql(stack.url, support.token, DELETE_SNAPSHOT, { id: missing });
      expect(response.errors![0].message.replace(a.snapshotId, '<id>')).toBe(
        control.errors![0].message.replace(missing, '<id>'),
      );
      expect(response.data?.deleteSnapshot ?? null).toBeNull();
      const { snapshot } = await mustQuery(
        stack.url,
        a.tenant.tokens.READ_ONLY,
        `query($id: ID!) { snapshot(id: $id) { state job { id } } }`,
        {
          id: a.snapshotId,
        },
      );
      expect(snapshot).toEqual({ state: 'COMPLETED', job: { id: a.snapshotJobId } });
      expect(await diskSnapshotTags(storageDir, a.rootVolumeId)).toEqual([a.snapshotId]);
      expect(await fingerprint(a)).toEqual(aBefore);
    });

    it("snapshotting A's volume and creating an instance in A's environment are NOT_FOUND and change nothing", async () => {
      const snapshot = await graphql(stack.url, support.token, CREATE_SNAPSHOT, {
        input: { volumeId: a.rootVolumeId },
      });
      const instance = await graphql(stack.url, support.token, CREATE_INSTANCE, {
        input: { environmentId: a.tenant.environmentId, name: 'support-clone', rootDiskSizeGiB: 1 },
      });
      expect(codesOf(snapshot)).toEqual(['NOT_FOUND']);
      expect(codesOf(instance)).toEqual(['NOT_FOUND']);
      expect(await fingerprint(a)).toEqual(aBefore);
    });

    it('deleting a snapshot that does not exist is NOT_FOUND for support', async () => {
      expect(codesOf(await graphql(stack.url, support.token, DELETE_SNAPSHOT, { id: randomUUID() }))).toEqual([
        'NOT_FOUND',
      ]);
    });
  });

  describe('in the end', () => {
    it("A's resources and disks are exactly as before all of the above", async () => {
      expect(await fingerprint(a)).toEqual(aBefore);
      const snapshot = await waitForSnapshot(stack, a.tenant.tokens.READ_ONLY, a.snapshotId, 'COMPLETED');
      expect(snapshot.id).toBe(a.snapshotId);
    });
  });
});
