/**
 * Bad requests: each is answered with the contract's extensions.code and changes nothing, and (the stack runs
 * with NODE_ENV=production) no answer carries a stack trace, SQL text or a file path.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describeWith } from '@snapdeck/testing';
import { diskSnapshotTags } from './support/disk.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const unique = () => randomBytes(4).toString('hex');

/** What must never reach a client in production. */
const LEAKS: Array<[string, RegExp]> = [
  ['a stack frame', /\n\s*at |\bat [\w.<>]+ \(|:\d+:\d+\)/],
  ['SQL', /\bSELECT\b|\bINSERT\b|\bUPDATE\b [a-z_"]+ SET\b|\bDELETE FROM\b/],
  ['a path under /work/', /\/work\//],
  ['node_modules', /node_modules/],
  ['a TypeScript location', /\.ts:/],
  ['a JavaScript location', /\.js:\d/],
  ['a driver error', /QueryFailedError|violates|duplicate key|invalid byte sequence|character varying/],
];

function expectNoLeak(text: string): void {
  for (const [what, pattern] of LEAKS) {
    if (pattern.test(text)) throw new Error(`The answer carries ${what}: ${text.slice(0, 2000)}`);
  }
}

function expectCleanErrors(response: GraphQLResponse<unknown>): void {
  for (const error of response.errors ?? []) {
    expectNoLeak(JSON.stringify(error));
    expect(error.extensions ?? {}).not.toHaveProperty('stacktrace');
    expect(error.extensions ?? {}).not.toHaveProperty('exception');
  }
}

type Data = Record<string, unknown>;
interface CreateSnapshotData {
  createSnapshot: { snapshot: { id: string; name: string; state: string } };
}
interface VolumePage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: Array<{ node: { id: string } }>;
}
interface DeepData {
  snapshots: {
    edges: Array<{
      node: {
        volume: { instance: { id: string; volumes: Array<{ snapshots: { edges: Array<{ node: { id: string } }> } }> } };
      };
    }>;
  };
}

const codesOf = (response: GraphQLResponse<unknown>) =>
  (response.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');

const CREATE_SNAPSHOT = `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { id name state } job { id } } }`;
const DELETE_SNAPSHOT = `mutation($input: DeleteSnapshotInput!) { deleteSnapshot(input: $input) { snapshot { id state } job { id } } }`;
const CREATE_INSTANCE = `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } job { id } } }`;
const DEPLOY_INSTANCE = `mutation($input: DeployInstanceInput!) { deployInstance(input: $input) { instance { id } job { id } } }`;
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`;
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`;
const CREATE_ENVIRONMENT = `mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { environment { id } } }`;

/** The depth of the selection of each line below: counted in fields from the root, leaves included. */
const DEPTH_10 = `{ snapshots { edges { node { volume { instance { id volumes { snapshots { edges { node { id } } } } } } } } } }`;
const DEPTH_11 = `{ snapshots { edges { node { volume { instance { volumes { snapshots { edges { node { volume { id } } } } } } } } } } }`;
const COSTLY = `{ snapshots(first:100){edges{node{volume{snapshots(first:100){edges{node{volume{snapshots(first:100){totalCount}}}}}}}}} }`;

describeWith(['redis', 'qemu-img'], 'bad input', () => {
  let stack: Stack;
  let tenant: Tenant;
  let storageDir: string;
  let instanceId: string;
  let rootVolumeId: string;
  let dataVolumeId: string;
  let snapshotId: string;

  /** A GraphQL request whose every error is checked for leaks. */
  async function call<T extends object = Data>(
    token: string | null,
    query: string,
    variables: Data = {},
  ): Promise<GraphQLResponse<T>> {
    return post<T>(token === null ? {} : { authorization: `Bearer ${token}` }, JSON.stringify({ query, variables }));
  }

  async function post<T extends object = Data>(
    headers: Record<string, string>,
    body: string,
  ): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const text = await response.text();
    expectNoLeak(text);
    const parsed = JSON.parse(text) as GraphQLResponse<T>;
    expectCleanErrors(parsed);
    return parsed;
  }

  /** Everything a bad request could have touched: the tenant's lists with states, and the disk. */
  async function fingerprint() {
    const data = await mustQuery(
      stack.url,
      stack.adminToken,
      `{
        organizations { totalCount }
        environments { totalCount }
        instances { totalCount edges { node { id name state } } }
        volumes { totalCount edges { node { id state } } }
        snapshots { totalCount edges { node { id name description state } } }
        apiTokens(first: 100) { totalCount edges { node { id expiresAt revokedAt } } }
      }`,
    );
    return {
      ...data,
      rootTags: await diskSnapshotTags(storageDir, rootVolumeId),
      dataTags: await diskSnapshotTags(storageDir, dataVolumeId),
    };
  }

  /** The request is answered with exactly `code`, no data for its root field, and nothing changed. */
  async function expectRefused(code: string, send: () => Promise<GraphQLResponse<Data>>) {
    const before = await fingerprint();
    const response = await send();
    expect(codesOf(response)).toEqual([code]);
    for (const value of Object.values(response.data ?? {})) expect(value).toBeNull();
    expect(await fingerprint()).toEqual(before);
    return response;
  }

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a'] });
    storageDir = stack.agents.get('kvm-a')!.storageDir;
    tenant = await createTenant(stack);
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'web-1',
      dataDiskSizesGiB: [1],
    });
    instanceId = instance.id;
    rootVolumeId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
    dataVolumeId = instance.volumes.find((v) => v.type === 'DATADISK')!.id;
    const { createSnapshot } = await mustQuery<CreateSnapshotData>(stack.url, tenant.tokens.MEMBER, CREATE_SNAPSHOT, {
      input: { volumeId: rootVolumeId, name: 'existing' },
    });
    snapshotId = createSnapshot.snapshot.id;
    await waitForSnapshot(stack, tenant.tokens.MEMBER, snapshotId, 'COMPLETED');
  });
  afterAll(() => stack?.close());

  describe('UNAUTHENTICATED', () => {
    const headers: Array<[string, () => Record<string, string>]> = [
      ['no Authorization header', () => ({})],
      ['an empty Authorization header', () => ({ authorization: '' })],
      ['"Bearer" without a token', () => ({ authorization: 'Bearer' })],
      ['"Bearer " and blanks', () => ({ authorization: 'Bearer    ' })],
      ['a Basic scheme', () => ({ authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` })],
      ['the token without a scheme', () => ({ authorization: tenant.tokens.MEMBER })],
      ['two tokens', () => ({ authorization: `Bearer ${tenant.tokens.MEMBER} ${tenant.tokens.MEMBER}` })],
      [
        'a token that was never issued',
        () => ({ authorization: `Bearer sdk_${randomBytes(32).toString('base64url')}` }),
      ],
      ['a real token with one character more', () => ({ authorization: `Bearer ${tenant.tokens.MEMBER}x` })],
      ['the admin token cut short', () => ({ authorization: `Bearer ${stack.adminToken.slice(0, -1)}` })],
    ];

    it.each(headers)('%s: a query is UNAUTHENTICATED', async (_label, header) => {
      const response = await expectRefused('UNAUTHENTICATED', () =>
        post(header(), JSON.stringify({ query: `{ viewer { user { id } } }` })),
      );
      expect(response.data ?? null).toBeNull();
    });

    it.each(headers)('%s: createSnapshot is UNAUTHENTICATED and takes no snapshot', async (_label, header) => {
      await expectRefused('UNAUTHENTICATED', () =>
        post(
          header(),
          JSON.stringify({ query: CREATE_SNAPSHOT, variables: { input: { volumeId: rootVolumeId, name: 'nope' } } }),
        ),
      );
    });

    it.each(headers)('%s: deleteSnapshot is UNAUTHENTICATED and deletes nothing', async (_label, header) => {
      await expectRefused('UNAUTHENTICATED', () =>
        post(header(), JSON.stringify({ query: DELETE_SNAPSHOT, variables: { input: { snapshotId } } })),
      );
    });
  });

  describe('names and descriptions (BAD_USER_INPUT)', () => {
    const badNames: Array<[string, string]> = [
      ['64 characters', 'a'.repeat(64)],
      ['a space', 'my snap'],
      ['a leading space', ' snap'],
      ['a slash', 'a/b'],
      ['a path', '../../etc/passwd'],
      ['a backslash', 'a\\b'],
      ['unicode letters', 'snäp'],
      ['CJK', '快照'],
      ['an emoji', 'snap📸'],
      ['a tab', 'a\tb'],
      ['a newline', 'snap\n'],
      ['SQL', "x'; DROP TABLE snapshots; --"],
    ];
    it.each(badNames)('a snapshot name with %s', async (_label, name) => {
      const response = await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.MEMBER, CREATE_SNAPSHOT, { input: { volumeId: rootVolumeId, name } }),
      );
      expect(response.errors![0].extensions!.field).toBe('name');
    });

    it('a description of 1025 characters', async () => {
      const response = await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.MEMBER, CREATE_SNAPSHOT, {
          input: { volumeId: rootVolumeId, name: 'long', description: 'd'.repeat(1025) },
        }),
      );
      expect(response.errors![0].extensions!.field).toBe('description');
    });

    const badInstanceNames: Array<[string, string]> = [
      ['empty', ''],
      ['a leading hyphen', '-web'],
      ['a trailing hyphen', 'web-'],
      ['an underscore', 'web_1'],
      ['a dot', 'web.example'],
      ['a space', 'web 1'],
      ['a slash', 'web/1'],
      ['unicode', 'wéb'],
      ['64 characters', 'a'.repeat(64)],
    ];
    it.each(badInstanceNames)('an instance name that is not a hostname label: %s', async (_label, name) => {
      const response = await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.MEMBER, CREATE_INSTANCE, {
          input: { environmentId: tenant.environmentId, name, rootDiskSizeGiB: 1 },
        }),
      );
      expect(response.errors![0].extensions!.field).toBe('name');
    });

    const badSizes: Array<[string, Record<string, unknown>]> = [
      ['rootDiskSizeGiB 0', { rootDiskSizeGiB: 0 }],
      ['rootDiskSizeGiB -1', { rootDiskSizeGiB: -1 }],
      ['rootDiskSizeGiB 16385', { rootDiskSizeGiB: 16385 }],
      ['a data disk of 0 GiB', { rootDiskSizeGiB: 1, dataDiskSizesGiB: [1, 0] }],
      ['16 data disks', { rootDiskSizeGiB: 1, dataDiskSizesGiB: Array.from({ length: 16 }, () => 1) }],
    ];
    it.each(badSizes)('createInstance with %s', async (_label, sizes) => {
      await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.MEMBER, CREATE_INSTANCE, {
          input: { environmentId: tenant.environmentId, name: `sized-${unique()}`, ...sizes },
        }),
      );
    });

    const badInstanceSizes: Array<[string, 'cpuCount' | 'memoryMiB', number]> = [
      ['cpuCount 0', 'cpuCount', 0],
      ['cpuCount 65', 'cpuCount', 65],
      ['memoryMiB 63', 'memoryMiB', 63],
      ['memoryMiB 65537', 'memoryMiB', 65537],
    ];
    it.each(badInstanceSizes)(
      'createInstance and deployInstance with %s, naming the field',
      async (_label, field, value) => {
        for (const [mutation, input] of [
          [CREATE_INSTANCE, { rootDiskSizeGiB: 1 }],
          [DEPLOY_INSTANCE, { templateId: randomUUID() }],
        ] as const) {
          const response = await expectRefused('BAD_USER_INPUT', () =>
            call(tenant.tokens.MEMBER, mutation, {
              input: { environmentId: tenant.environmentId, name: `sized-${unique()}`, ...input, [field]: value },
            }),
          );
          expect(response.errors![0].extensions!.field).toBe(field);
        }
      },
    );

    it('organization, environment and token names follow the same rule', async () => {
      await expectRefused('BAD_USER_INPUT', () =>
        call(stack.adminToken, `mutation { createOrganization(input: { name: "acme corp" }) { organization { id } } }`),
      );
      await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_ENVIRONMENT, { input: { name: 'prod/eu' } }),
      );
      await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_TOKEN, {
          input: { userId: tenant.userIds.READ_ONLY, name: 'a'.repeat(64) },
        }),
      );
      await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_USER, {
          input: { organizationId: tenant.organizationId, email: 'not an email', role: 'MEMBER' },
        }),
      );
    });

    it.each([0, -1, 3651, 2 ** 31 - 1])('a token lifetime of %s days is refused', async (days) => {
      const response = await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_TOKEN, {
          input: { userId: tenant.userIds.READ_ONLY, name: 'lifetime', expiresInDays: days },
        }),
      );
      expect(response.errors![0].extensions!.field).toBe('expiresInDays');
    });

    it.each([
      ['a fraction of a day', 1.5],
      ['a string', '30'],
      ['a number beyond Int', 2 ** 31],
    ])('a token lifetime of %s is refused', async (_label, days) => {
      await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_TOKEN, {
          input: { userId: tenant.userIds.READ_ONLY, name: 'lifetime', expiresInDays: days },
        }),
      );
    });

    it('updateUser with a role that does not exist, or a disabled flag that is not a boolean, changes nothing', async () => {
      const UPDATE = `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } } }`;
      for (const input of [
        { userId: tenant.userIds.MEMBER, role: 'ROOT' },
        { userId: tenant.userIds.MEMBER, role: 'member' },
        { userId: tenant.userIds.MEMBER, disabled: 'yes' },
        { userId: tenant.userIds.MEMBER, disabled: 1 },
      ]) {
        await expectRefused('BAD_USER_INPUT', () => call(tenant.tokens.ORG_ADMIN, UPDATE, { input }));
      }
      const { viewer } = await mustQuery<{ viewer: { user: { role: string } } }>(
        stack.url,
        tenant.tokens.MEMBER,
        `{ viewer { user { role } } }`,
      );
      expect(viewer.user.role).toBe('MEMBER');
    });
  });

  describe('malformed ids (BAD_USER_INPUT)', () => {
    const malformed = [
      'not-a-uuid',
      '123',
      '',
      '00000000-0000-0000-0000-00000000000g',
      "' OR 1=1 --",
      `${randomUUID()}x`,
    ];
    const byIdFields = ['snapshot', 'volume', 'instance', 'job', 'node'];
    const byIdCases = byIdFields.flatMap((field) => malformed.map((id) => [field, id] as const));
    it.each(byIdCases)('%s(id: %j)', async (field, id) => {
      await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.READ_ONLY, `query($id: ID!) { ${field}(id: $id) { id } }`, { id }),
      );
    });

    it('an id given as an integer literal', async () => {
      await expectRefused('BAD_USER_INPUT', () => call(tenant.tokens.READ_ONLY, `{ snapshot(id: 42) { id } }`));
    });

    const inputs: Array<[string, 'MEMBER' | 'ORG_ADMIN', string, () => Record<string, unknown>, string]> = [
      ['createSnapshot volumeId', 'MEMBER', CREATE_SNAPSHOT, () => ({ input: { volumeId: 'vol-1' } }), 'volumeId'],
      [
        'deleteSnapshot snapshotId',
        'MEMBER',
        DELETE_SNAPSHOT,
        () => ({ input: { snapshotId: 'snap-1' } }),
        'snapshotId',
      ],
      [
        'createInstance environmentId',
        'MEMBER',
        CREATE_INSTANCE,
        () => ({ input: { environmentId: 'env', name: 'x1', rootDiskSizeGiB: 1 } }),
        'environmentId',
      ],
      [
        'createInstance hostId',
        'MEMBER',
        CREATE_INSTANCE,
        () => ({ input: { environmentId: tenant.environmentId, name: 'x2', rootDiskSizeGiB: 1, hostId: 'kvm-a' } }),
        'hostId',
      ],
      [
        'createUser organizationId',
        'ORG_ADMIN',
        CREATE_USER,
        () => ({ input: { organizationId: 'org', email: `x-${unique()}@example.test`, role: 'MEMBER' } }),
        'organizationId',
      ],
      ['createApiToken userId', 'ORG_ADMIN', CREATE_TOKEN, () => ({ input: { userId: 'me', name: 'x' } }), 'userId'],
      [
        'revokeApiToken apiTokenId',
        'MEMBER',
        `mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id } } }`,
        () => ({ input: { apiTokenId: 'sdk_secret' } }),
        'apiTokenId',
      ],
      [
        'updateUser userId',
        'ORG_ADMIN',
        `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } } }`,
        () => ({ input: { userId: 'me', disabled: true } }),
        'userId',
      ],
      [
        'deleteUser userId',
        'ORG_ADMIN',
        `mutation($input: DeleteUserInput!) { deleteUser(input: $input) { user { id } } }`,
        () => ({ input: { userId: 'me' } }),
        'userId',
      ],
      [
        'startInstance instanceId',
        'MEMBER',
        `mutation($input: StartInstanceInput!) { startInstance(input: $input) { job { id } } }`,
        () => ({ input: { instanceId: 'vm-1' } }),
        'instanceId',
      ],
      [
        'stopInstance instanceId',
        'MEMBER',
        `mutation($input: StopInstanceInput!) { stopInstance(input: $input) { job { id } } }`,
        () => ({ input: { instanceId: 'vm-1' } }),
        'instanceId',
      ],
      [
        'createInstanceSnapshot instanceId',
        'MEMBER',
        `mutation($input: CreateInstanceSnapshotInput!) { createInstanceSnapshot(input: $input) { job { id } } }`,
        () => ({ input: { instanceId: 'vm-1' } }),
        'instanceId',
      ],
      [
        'createInstanceSnapshot name',
        'MEMBER',
        `mutation($input: CreateInstanceSnapshotInput!) { createInstanceSnapshot(input: $input) { job { id } } }`,
        () => ({ input: { instanceId: instanceId, name: 'has space' } }),
        'name',
      ],
      [
        'revertToInstanceSnapshot instanceSnapshotId',
        'MEMBER',
        `mutation($input: RevertToInstanceSnapshotInput!) { revertToInstanceSnapshot(input: $input) { job { id } } }`,
        () => ({ input: { instanceSnapshotId: 'rp-1' } }),
        'instanceSnapshotId',
      ],
      [
        'deleteInstanceSnapshot instanceSnapshotId',
        'MEMBER',
        `mutation($input: DeleteInstanceSnapshotInput!) { deleteInstanceSnapshot(input: $input) { job { id } } }`,
        () => ({ input: { instanceSnapshotId: 'rp-1' } }),
        'instanceSnapshotId',
      ],
      [
        'createEnvironment organizationId',
        'ORG_ADMIN',
        CREATE_ENVIRONMENT,
        () => ({ input: { name: `env-${unique()}`, organizationId: 'org' } }),
        'organizationId',
      ],
    ];
    it.each(inputs)('%s', async (_label, role, query, variables, field) => {
      const response = await expectRefused('BAD_USER_INPUT', () => call(tenant.tokens[role], query, variables()));
      expect(response.errors![0].extensions!.field).toBe(field);
    });

    const filters: Array<[string, string]> = [
      ['snapshots(filter: { volumeId })', `{ snapshots(filter: { volumeId: "v" }) { totalCount } }`],
      ['snapshots(filter: { instanceId })', `{ snapshots(filter: { instanceId: "i" }) { totalCount } }`],
      ['snapshots(filter: { environmentId })', `{ snapshots(filter: { environmentId: "e" }) { totalCount } }`],
      ['volumes(filter: { instanceId })', `{ volumes(filter: { instanceId: "i" }) { totalCount } }`],
      ['volumes(filter: { environmentId })', `{ volumes(filter: { environmentId: "e" }) { totalCount } }`],
      ['instances(filter: { environmentId })', `{ instances(filter: { environmentId: "e" }) { totalCount } }`],
      [
        'instanceSnapshots(filter: { instanceId })',
        `{ instanceSnapshots(filter: { instanceId: "i" }) { totalCount } }`,
      ],
    ];
    it.each(filters)('%s', async (_label, query) => {
      await expectRefused('BAD_USER_INPUT', () => call(tenant.tokens.READ_ONLY, query));
    });
  });

  describe('pagination arguments', () => {
    // PageArgs (apps/api/src/common/page.args.ts) has no class-validator decorator, and the global
    // ValidationPipe runs with whitelist: true, so `first` and `after` are stripped before the resolver:
    // every list answers its default page whatever the client asks.
    const lists = ['snapshots', 'volumes', 'instances', 'environments', 'instanceSnapshots'];
    const pageCases = lists.flatMap((list) =>
      [
        ['first: 101', 'first: 101'],
        ['first: -1', 'first: -1'],
        ['a bogus after cursor', 'after: "bogus!!"'],
        ['a cursor that decodes to no id', `after: "${Buffer.from('hello').toString('base64url')}"`],
      ].map(([label, args]) => [list, label, args] as const),
    );
    it.each(pageCases)('%s(%s) is BAD_USER_INPUT', async (list, _label, args) => {
      await expectRefused('BAD_USER_INPUT', () => call(tenant.tokens.READ_ONLY, `{ ${list}(${args}) { totalCount } }`));
    });

    it('volume.snapshots(first: 101) is BAD_USER_INPUT', async () => {
      await expectRefused('BAD_USER_INPUT', () =>
        call(tenant.tokens.READ_ONLY, `query($id: ID!) { volume(id: $id) { snapshots(first: 101) { totalCount } } }`, {
          id: rootVolumeId,
        }),
      );
    });

    it('first: 1 answers one edge, and after: endCursor the next one', async () => {
      const query = `query($after: String) { volumes(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`;
      const first = await mustQuery<{ volumes: VolumePage }>(stack.url, tenant.tokens.READ_ONLY, query);
      expect(first.volumes.totalCount).toBe(2);
      expect(first.volumes.edges).toHaveLength(1);
      expect(first.volumes.pageInfo.hasNextPage).toBe(true);
      const second = await mustQuery<{ volumes: VolumePage }>(stack.url, tenant.tokens.READ_ONLY, query, {
        after: first.volumes.pageInfo.endCursor,
      });
      expect(second.volumes.edges).toHaveLength(1);
      expect(second.volumes.pageInfo.hasNextPage).toBe(false);
      expect([first.volumes.edges[0].node.id, second.volumes.edges[0].node.id].sort()).toEqual(
        [rootVolumeId, dataVolumeId].sort(),
      );
    });

    it('first: 100 and first: 0 are accepted', async () => {
      const data = await mustQuery<Record<'a' | 'b', { totalCount: number }>>(
        stack.url,
        tenant.tokens.READ_ONLY,
        `{ a: snapshots(first: 100) { totalCount } b: volumes(first: 0) { totalCount } }`,
      );
      expect(data.a.totalCount).toBe(1);
      expect(data.b.totalCount).toBe(2);
    });
  });

  describe('malformed documents (BAD_USER_INPUT, before execution)', () => {
    const documents: Array<[string, string]> = [
      ['a syntax error', `{ snapshots( }`],
      ['an unclosed selection', `{ snapshots { edges { node { id }`],
      ['an unknown field', `{ snapshots { bogus } }`],
      ['an unknown root field', `{ users { id } }`],
      ['an unknown argument', `{ snapshots(around: 5) { totalCount } }`],
      ['an unknown enum value', `{ snapshots(filter: { states: [DELETED] }) { totalCount } }`],
      ['a string for an Int', `{ snapshots(first: "ten") { totalCount } }`],
      ['a selection on a leaf', `{ viewer { user { id { x } } } }`],
      ['no selection on an object', `{ viewer }`],
      [
        'an unknown input field',
        `mutation { createSnapshot(input: { volumeId: "${randomUUID()}", size: 1 }) { snapshot { id } } }`,
      ],
      ['an empty document', ``],
    ];
    it.each(documents)('%s', async (_label, query) => {
      const response = await expectRefused('BAD_USER_INPUT', () => call(tenant.tokens.MEMBER, query));
      expect(response).not.toHaveProperty('data');
    });

    it('the same errors before authentication: no token still gets BAD_USER_INPUT for a broken document', async () => {
      const response = await call(null, `{ snapshots( }`);
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    });

    it('a query within the depth limit (10) runs', async () => {
      const response = await call<DeepData>(tenant.tokens.READ_ONLY, DEPTH_10);
      expect(response.errors).toBeUndefined();
      expect(response.data!.snapshots.edges).toHaveLength(1);
      expect(response.data!.snapshots.edges[0].node.volume.instance.id).toBe(instanceId);
      const volumes = response.data!.snapshots.edges[0].node.volume.instance.volumes;
      expect(volumes).toHaveLength(2);
      expect(volumes.flatMap((v) => v.snapshots.edges.map((e) => e.node.id))).toEqual([snapshotId]);
    });

    it('an over-deep query (11) is refused before execution', async () => {
      const response = await call(tenant.tokens.READ_ONLY, DEPTH_11);
      expect(response.errors?.length).toBeGreaterThan(0);
      expect(response).not.toHaveProperty('data');
    });

    // The max-depth rule (apps/api/src/graphql/graphql.module.ts, maxDepthRule with graphql-armor's default
    // propagateOnRejection: true) throws out of validation, so Apollo answers "Internal server error".
    it('an over-deep query (11) is BAD_USER_INPUT', async () => {
      const response = await call(tenant.tokens.READ_ONLY, DEPTH_11);
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    });

    it('an over-deep mutation is refused before it runs: no snapshot is taken', async () => {
      const before = await fingerprint();
      const response = await call(
        tenant.tokens.MEMBER,
        `mutation($v: ID!) { createSnapshot(input: { volumeId: $v, name: "deep" }) { snapshot { volume { instance { volumes { snapshots { edges { node { volume { instance { id } } } } } } } } } } }`,
        { v: rootVolumeId },
      );
      expect(response.errors?.length).toBeGreaterThan(0);
      expect(response).not.toHaveProperty('data');
      expect(await fingerprint()).toEqual(before);
    });

    it('an over-costly query is BAD_USER_INPUT before execution', async () => {
      const response = await expectRefused('BAD_USER_INPUT', () => call(tenant.tokens.READ_ONLY, COSTLY));
      expect(response).not.toHaveProperty('data');
      expect(response.errors![0].message).toMatch(/too expensive/);
    });

    it('an over-costly mutation is BAD_USER_INPUT and takes no snapshot', async () => {
      const wide = `snapshots(first: 100) { edges { node { volume { a: snapshots(first: 100) { totalCount } b: snapshots(first: 100) { totalCount } c: snapshots(first: 100) { totalCount } } } } }`;
      const response = await expectRefused('BAD_USER_INPUT', () =>
        call(
          tenant.tokens.MEMBER,
          `mutation($v: ID!) { createSnapshot(input: { volumeId: $v, name: "costly" }) { snapshot { volume { ${wide} } } } }`,
          {
            v: rootVolumeId,
          },
        ),
      );
      expect(response).not.toHaveProperty('data');
    });

    // The complexity plugin (apps/api/src/graphql/complexity.plugin.ts) calls getComplexity with the raw
    // variables in didResolveOperation; getComplexity throws the coercion error, which has no code, so
    // Apollo answers INTERNAL_SERVER_ERROR before its own variable validation would say BAD_USER_INPUT.
    const badVariables: Array<[string, string, Record<string, unknown>]> = [
      ['a string for an Int variable', `query($f: Int) { snapshots(first: $f) { totalCount } }`, { f: 'ten' }],
      ['a missing required variable', `query($id: ID!) { snapshot(id: $id) { id } }`, {}],
      [
        'a null required variable',
        `mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { id } } }`,
        { input: null },
      ],
      ['an input variable without its required field', CREATE_SNAPSHOT, { input: { name: 'x' } }],
      [
        'an unknown enum value in a variable',
        `query($s: [SnapshotState!]) { snapshots(filter: { states: $s }) { totalCount } }`,
        { s: ['DELETED'] },
      ],
    ];
    it('bad variables are refused, leak-free, and change nothing', async () => {
      for (const [, query, variables] of badVariables) {
        const before = await fingerprint();
        const response = await call(tenant.tokens.MEMBER, query, variables);
        expect(response.errors?.length).toBeGreaterThan(0);
        expect(response.data ?? null).toBeNull();
        expect(await fingerprint()).toEqual(before);
      }
    });
    it.each(badVariables)('%s is BAD_USER_INPUT', async (_label, query, variables) => {
      const response = await call(tenant.tokens.MEMBER, query, variables);
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('setOrganizationLimits input', () => {
    const SET_LIMITS = `mutation($input: SetOrganizationLimitsInput!) {
      setOrganizationLimits(input: $input) { organization { id } }
    }`;
    const LIMITS = 'snapshots snapshotGiB instances volumeGiB backups backupGiB';
    async function limits() {
      const { node } = await mustQuery<{ node: { limits: Record<string, number | null> } }>(
        stack.url,
        stack.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Organization { limits { ${LIMITS} } } } }`,
        { id: tenant.organizationId },
      );
      return node.limits;
    }

    it.each(LIMITS.split(' '))(
      'a negative %s is BAD_USER_INPUT naming the field, and changes no limit',
      async (field) => {
        const before = await limits();
        const response = await expectRefused('BAD_USER_INPUT', () =>
          call(stack.adminToken, SET_LIMITS, { input: { organizationId: tenant.organizationId, [field]: -1 } }),
        );
        expect(response.errors![0].extensions!.field).toBe(field);
        expect(await limits()).toEqual(before);
      },
    );

    const bad: Array<[string, Record<string, unknown>]> = [
      ['a malformed organizationId', { organizationId: 'org-1', snapshots: 1 }],
      ['a fractional limit', { organizationId: '', snapshots: 1.5 }],
      ['a limit above 32 bits', { organizationId: '', instances: 2 ** 31 }],
      ['a string limit', { organizationId: '', volumeGiB: 'ten' }],
      ['an unknown field', { organizationId: '', snapshot: 1 }],
    ];
    it.each(bad)('%s is BAD_USER_INPUT and changes no limit', async (_label, input) => {
      const before = await limits();
      await expectRefused('BAD_USER_INPUT', () =>
        call(stack.adminToken, SET_LIMITS, {
          input: { ...input, organizationId: input.organizationId || tenant.organizationId },
        }),
      );
      expect(await limits()).toEqual(before);
    });

    it('an organization that does not exist is NOT_FOUND', async () => {
      await expectRefused('NOT_FOUND', () =>
        call(stack.adminToken, SET_LIMITS, { input: { organizationId: randomUUID(), snapshots: 1 } }),
      );
    });
  });

  describe('conflicts and missing references', () => {
    it('a duplicate instance name in one environment is CONFLICT', async () => {
      await expectRefused('CONFLICT', () =>
        call(tenant.tokens.MEMBER, CREATE_INSTANCE, {
          input: { environmentId: tenant.environmentId, name: 'web-1', rootDiskSizeGiB: 1 },
        }),
      );
    });

    it('createInstance on a host that does not exist is NOT_FOUND', async () => {
      await expectRefused('NOT_FOUND', () =>
        call(tenant.tokens.MEMBER, CREATE_INSTANCE, {
          input: {
            environmentId: tenant.environmentId,
            name: `nohost-${unique()}`,
            rootDiskSizeGiB: 1,
            hostId: randomUUID(),
          },
        }),
      );
    });

    it('references to ids that do not exist are NOT_FOUND', async () => {
      await expectRefused('NOT_FOUND', () =>
        call(tenant.tokens.MEMBER, CREATE_INSTANCE, {
          input: { environmentId: randomUUID(), name: 'ghost', rootDiskSizeGiB: 1 },
        }),
      );
      await expectRefused('NOT_FOUND', () =>
        call(tenant.tokens.MEMBER, CREATE_SNAPSHOT, { input: { volumeId: randomUUID() } }),
      );
      await expectRefused('NOT_FOUND', () =>
        call(tenant.tokens.MEMBER, DELETE_SNAPSHOT, { input: { snapshotId: randomUUID() } }),
      );
      await expectRefused('NOT_FOUND', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_TOKEN, { input: { userId: randomUUID(), name: 'x' } }),
      );
    });

    it('a duplicate environment name is CONFLICT, a duplicate email too', async () => {
      await expectRefused('CONFLICT', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_ENVIRONMENT, { input: { name: 'production' } }),
      );
      const email = `dup-${unique()}@example.test`;
      await mustQuery(stack.url, tenant.tokens.ORG_ADMIN, CREATE_USER, {
        input: { organizationId: tenant.organizationId, email, role: 'MEMBER' },
      });
      await expectRefused('CONFLICT', () =>
        call(tenant.tokens.ORG_ADMIN, CREATE_USER, {
          input: { organizationId: tenant.organizationId, email, role: 'READ_ONLY' },
        }),
      );
    });
  });

  describe('internal failures stay internal', () => {
    // A description is checked for its length only; PostgreSQL refuses a NUL byte in text. Whatever the
    // code, the answer must be bare and change nothing (the volume went SNAPSHOTTING in the transaction).
    it('a description with a NUL byte: no leak, nothing changed, the volume is READY again', async () => {
      const before = await fingerprint();
      const response = await call(tenant.tokens.MEMBER, CREATE_SNAPSHOT, {
        input: { volumeId: dataVolumeId, name: 'nul', description: 'a\u0000b' },
      });
      expect(response.errors).toHaveLength(1);
      const [error] = response.errors!;
      expect(['BAD_USER_INPUT', 'INTERNAL_SERVER_ERROR']).toContain(error.extensions!.code);
      if (error.extensions!.code === 'INTERNAL_SERVER_ERROR') {
        expect(error.message).toBe('Internal server error');
        expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      }
      expect(await fingerprint()).toEqual(before);
    });

    it('a description with a NUL byte is BAD_USER_INPUT', async () => {
      const response = await call(tenant.tokens.MEMBER, CREATE_SNAPSHOT, {
        input: { volumeId: dataVolumeId, name: 'nul', description: 'a\u0000b' },
      });
      expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    });

    it('a malformed JSON body and an oversized body get a bare HTTP error', async () => {
      for (const body of ['{"query": ', '{"query": "{ viewer { user { id } } }", "variables": [}', 'x'.repeat(10)]) {
        const response = await fetch(`${stack.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.tokens.MEMBER}` },
          body,
        });
        expect(response.status).toBe(400);
        expectNoLeak(await response.text());
      }
      const big = await fetch(`${stack.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.tokens.MEMBER}` },
        body: JSON.stringify({ query: '{ viewer { user { id } } }', variables: { pad: 'x'.repeat(2_000_000) } }),
      });
      expect(big.status).toBeGreaterThanOrEqual(400);
      expectNoLeak(await big.text());
    });
  });

  describe('valid edge cases (these change state, so they run last)', () => {
    it('a name of 63 characters and a description of 1024 are accepted', async () => {
      const name = `${'n'.repeat(60)}._-`;
      const { createSnapshot } = await mustQuery<CreateSnapshotData>(stack.url, tenant.tokens.MEMBER, CREATE_SNAPSHOT, {
        input: { volumeId: dataVolumeId, name, description: 'd'.repeat(1024) },
      });
      expect(createSnapshot.snapshot.name).toBe(name);
      await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
    });
  });
});
