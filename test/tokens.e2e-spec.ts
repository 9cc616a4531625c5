/**
 * Tokens and sign-in on the real stack (issue 9): expiry, lastUsedAt, listing and revoking tokens, tokens as
 * nodes, who may mint and revoke whose tokens, disabling and deleting users, the audit events of all of it,
 * e-mail addresses unique per organization, a revoked/expired/disabled token closing open WebSockets with
 * 4401, and the limit on failed bearer authentication per client address.
 *
 * The api trusts X-Forwarded-For from loopback (TRUST_PROXY=loopback), so each test that fails to
 * authenticate does so from its own client address and the limit of one test does not reach another.
 */
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { describeWith } from '@snapdeck/testing';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { Collected, connect, listening, type Closed } from './support/subscriptions.js';
import { createTenant, createUserWithToken, type Tenant } from './support/tenants.js';

const LIMIT = 5;
const RECHECK_SECONDS = 1;

const SNAPSHOT_UPDATED = `subscription($e: ID!) { snapshotUpdated(environmentId: $e) { removed snapshot { id } } }`;
const TOKEN_FIELDS = `id name userId createdAt expiresAt lastUsedAt revokedAt`;
const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { ${TOKEN_FIELDS} } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { apiToken { ${TOKEN_FIELDS} } } }`;
const LIST = `{ apiTokens(first: 100) { totalCount edges { cursor node { ${TOKEN_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const UPDATE_USER = `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id role disabled } } }`;
const DELETE_USER = `mutation($id: ID!) { deleteUser(input: { userId: $id }) { user { id email role } } }`;
const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id email role disabled } } }`;
const VIEWER = `{ viewer { user { id role } } }`;

interface Token {
  id: string;
  name: string;
  userId: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const unique = () => randomBytes(4).toString('hex');

describeWith(['redis'], 'tokens and sign-in', () => {
  let stack: Stack;
  let tenant: Tenant;
  let other: Tenant;
  let redis: Redis;
  let db: pg.Client;
  const closers: Array<() => unknown> = [];

  /** A POST /graphql as from client address `ip` (X-Forwarded-For, believed from loopback). */
  async function post<T = Record<string, any>>(
    token: string | null,
    query: string,
    variables: Record<string, unknown> = {},
    ip = '198.51.100.1',
  ): Promise<{ status: number; headers: Headers; body: GraphQLResponse<T> }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': ip };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse<T> };
  }

  const codes = (body: GraphQLResponse<unknown>) => (body.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');

  async function mint(
    asToken: string,
    userId: string,
    expiresInDays?: number,
  ): Promise<{ token: string; apiToken: Token }> {
    const { createApiToken } = await mustQuery<{ createApiToken: { token: string; apiToken: Token } }>(
      stack.url,
      asToken,
      CREATE_TOKEN,
      { input: { userId, name: `t-${unique()}`, expiresInDays } },
    );
    return createApiToken;
  }

  async function tokenRow(id: string) {
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM api_tokens WHERE id = $1', [id]);
    return rows[0];
  }

  /**
   * A WebSocket subscribed to a new environment of the tenant, live: the api's Redis channel for that
   * environment is subscribed, so the socket was accepted and the subscription runs.
   */
  async function openSubscription(token: string): Promise<{ closed: Promise<Closed>; collected: Collected<unknown> }> {
    const { createEnvironment } = await mustQuery<{ createEnvironment: { environment: { id: string } } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      `mutation($name: String!) { createEnvironment(input: { name: $name }) { environment { id } } }`,
      { name: `ws-${unique()}` },
    );
    const environmentId = createEnvironment.environment.id;
    const { client, closed } = connect(stack.url, { authorization: `Bearer ${token}` });
    closers.push(() => client.dispose());
    const collected = new Collected<unknown>(client, SNAPSHOT_UPDATED, { e: environmentId });
    await listening(redis, stack.apiConfig.QUEUE_PREFIX, environmentId);
    return { closed, collected };
  }

  /** How long until `closed` resolves, and with what; fails after 10 s. */
  async function closedWithin(closed: Promise<Closed>): Promise<{ closed: Closed; ms: number }> {
    const started = Date.now();
    const result = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 10000))]);
    if (!result) throw new Error('the WebSocket stayed open for 10 s');
    return { closed: result, ms: Date.now() - started };
  }

  async function events(token: string, type: string, resourceId?: string) {
    const { events } = await mustQuery<{
      events: { edges: Array<{ node: { type: string; resourceId: string; actorUserId: string; details: any } }> };
    }>(
      stack.url,
      token,
      `query($f: EventFilter) { events(filter: $f, first: 100) { edges { node { type resourceId actorUserId details } } } }`,
      { f: { type, resourceId } },
    );
    return events.edges.map((e) => e.node);
  }

  beforeAll(async () => {
    stack = await startStack({
      apiEnv: {
        AUTH_FAILURE_LIMIT: String(LIMIT),
        AUTH_FAILURE_WINDOW_SECONDS: '600',
        SUBSCRIPTION_AUTH_RECHECK_SECONDS: String(RECHECK_SECONDS),
        TRUST_PROXY: 'loopback',
      },
    });
    tenant = await createTenant(stack);
    other = await createTenant(stack);
    redis = new Redis(stack.apiConfig.REDIS_URL);
    db = new pg.Client({ connectionString: stack.apiConfig.DATABASE_URL });
    await db.connect();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    await db?.end();
    redis?.disconnect();
    await stack?.close();
  });

  it('ApiToken shows when it expires, was last used and was revoked, and never its secret or hash', () => {
    const schema = stack.app.get(GraphQLSchemaHost).schema;
    const token = schema.getType('ApiToken') as import('graphql').GraphQLObjectType;
    expect(Object.keys(token.getFields()).sort()).toEqual(
      ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'userId'].sort(),
    );
    expect(token.getInterfaces().map((i) => i.name)).toEqual(['Node']);
    expect(Object.keys((schema.getType('User') as import('graphql').GraphQLObjectType).getFields())).toContain(
      'disabled',
    );
  });

  it('expiresInDays sets expiresAt; no expiresInDays means no expiry', async () => {
    const before = Date.now();
    const { apiToken } = await mint(tenant.tokens.ORG_ADMIN, tenant.userIds.MEMBER, 30);
    const expected = before + 30 * 24 * 3600 * 1000;
    expect(Math.abs(new Date(apiToken.expiresAt!).getTime() - expected)).toBeLessThan(60_000);
    expect(apiToken).toMatchObject({ lastUsedAt: null, revokedAt: null, userId: tenant.userIds.MEMBER });
    const forever = await mint(tenant.tokens.ORG_ADMIN, tenant.userIds.MEMBER);
    expect(forever.apiToken.expiresAt).toBeNull();
  });

  it('an expired token fails at once, on HTTP and on an open WebSocket (4401)', async () => {
    const { token, apiToken } = await mint(tenant.tokens.ORG_ADMIN, tenant.userIds.MEMBER, 1);
    expect(codes((await post(token, VIEWER)).body)).toEqual([]);
    const { closed } = await openSubscription(token);
    // A day passes: the row is moved to yesterday, as the clock would.
    await db.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [apiToken.id]);
    expect(codes((await post(token, VIEWER, {}, '198.51.100.2')).body)).toEqual(['UNAUTHENTICATED']);
    const { closed: how, ms } = await closedWithin(closed);
    expect(how.code).toBe(4401);
    expect(ms).toBeLessThan(RECHECK_SECONDS * 1000 + 3000);
  });

  it('lastUsedAt is set when the token authenticates, and written at most once a minute', async () => {
    const { token, apiToken } = await mint(tenant.tokens.ORG_ADMIN, tenant.userIds.READ_ONLY);
    expect((await tokenRow(apiToken.id)).last_used_at).toBeNull();
    await mustQuery(stack.url, token, VIEWER);
    const first = (await tokenRow(apiToken.id)).last_used_at as Date;
    expect(first).toBeInstanceOf(Date);
    expect(Math.abs(first.getTime() - Date.now())).toBeLessThan(10_000);
    for (let i = 0; i < 5; i++) await mustQuery(stack.url, token, VIEWER);
    expect((await tokenRow(apiToken.id)).last_used_at).toEqual(first);
    // Once the last write is over a minute old, the next request writes again.
    await db.query(`UPDATE api_tokens SET last_used_at = now() - interval '61 seconds' WHERE id = $1`, [apiToken.id]);
    const aged = (await tokenRow(apiToken.id)).last_used_at as Date;
    await mustQuery(stack.url, token, VIEWER);
    expect(((await tokenRow(apiToken.id)).last_used_at as Date).getTime()).toBeGreaterThan(aged.getTime() + 50_000);
    const { apiTokens } = await mustQuery<{ apiTokens: { edges: Array<{ node: Token }> } }>(stack.url, token, LIST);
    expect(apiTokens.edges.find((e) => e.node.id === apiToken.id)!.node.lastUsedAt).not.toBeNull();
  });

  it("apiTokens: the caller's own; an ORG_ADMIN's: its organization's; a PLATFORM_ADMIN's: every one; paged", async () => {
    const list = async (token: string) =>
      (await mustQuery<{ apiTokens: { totalCount: number; edges: Array<{ node: Token }> } }>(stack.url, token, LIST))
        .apiTokens;
    const member = await list(tenant.tokens.MEMBER);
    expect(member.edges.length).toBeGreaterThan(0);
    expect(member.edges.every((e) => e.node.userId === tenant.userIds.MEMBER)).toBe(true);
    const admin = await list(tenant.tokens.ORG_ADMIN);
    const owners = new Set(admin.edges.map((e) => e.node.userId));
    expect([...owners].sort()).toEqual(Object.values(tenant.userIds).sort());
    expect(admin.totalCount).toBe(admin.edges.length);
    const stranger = await list(other.tokens.ORG_ADMIN);
    expect(stranger.edges.some((e) => owners.has(e.node.userId))).toBe(false);
    const platform = await list(stack.adminToken);
    expect(platform.totalCount).toBeGreaterThan(admin.totalCount + stranger.totalCount - 1);
    // Newest first, keyset pages that do not overlap.
    const page1 = await mustQuery<{ apiTokens: { edges: Array<{ node: Token }>; pageInfo: { endCursor: string } } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      `{ apiTokens(first: 2) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
    );
    const page2 = await mustQuery<{ apiTokens: { edges: Array<{ node: Token }> } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      `query($after: String) { apiTokens(first: 2, after: $after) { edges { node { id } } } }`,
      { after: page1.apiTokens.pageInfo.endCursor },
    );
    const ids = [...page1.apiTokens.edges, ...page2.apiTokens.edges].map((e) => e.node.id);
    expect(ids).toEqual(admin.edges.slice(0, ids.length).map((e) => e.node.id));
  });

  it('node(id) finds a token with the same visibility as apiTokens', async () => {
    const { apiToken } = await mint(tenant.tokens.ORG_ADMIN, tenant.userIds.MEMBER);
    const node = (token: string) =>
      mustQuery<{ node: { id: string; name?: string } | null }>(
        stack.url,
        token,
        `query($id: ID!) { node(id: $id) { id ... on ApiToken { name userId } } }`,
        { id: apiToken.id },
      );
    expect((await node(tenant.tokens.MEMBER)).node).toMatchObject({ id: apiToken.id, name: apiToken.name });
    expect((await node(tenant.tokens.ORG_ADMIN)).node).toMatchObject({ id: apiToken.id });
    expect((await node(stack.adminToken)).node).toMatchObject({ id: apiToken.id });
    expect((await node(tenant.tokens.READ_ONLY)).node).toBeNull();
    expect((await node(other.tokens.ORG_ADMIN)).node).toBeNull();
  });

  it('revokeApiToken: the token fails at once on HTTP, its open WebSocket is closed with 4401 within seconds', async () => {
    const { token, apiToken } = await mint(tenant.tokens.ORG_ADMIN, tenant.userIds.MEMBER);
    const { closed, collected } = await openSubscription(token);
    expect(collected.codes()).toEqual([]);
    const { revokeApiToken } = await mustQuery<{ revokeApiToken: { apiToken: Token } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      REVOKE,
      { id: apiToken.id },
    );
    const revokedAt = Date.now();
    expect(revokeApiToken.apiToken.id).toBe(apiToken.id);
    expect(revokeApiToken.apiToken.revokedAt).not.toBeNull();
    expect(codes((await post(token, VIEWER, {}, '198.51.100.3')).body)).toEqual(['UNAUTHENTICATED']);
    const how = await closed;
    expect(how.code).toBe(4401);
    expect(Date.now() - revokedAt).toBeLessThan(RECHECK_SECONDS * 1000 + 3000);
    // A new connection with it is refused outright.
    const again = connect(stack.url, { authorization: `Bearer ${token}` });
    closers.push(() => again.client.dispose());
    expect((await again.closed).code).toBe(4401);

    // Revoking again changes nothing and records nothing more; the event says who revoked what.
    const twice = await mustQuery<{ revokeApiToken: { apiToken: Token } }>(stack.url, tenant.tokens.ORG_ADMIN, REVOKE, {
      id: apiToken.id,
    });
    expect(twice.revokeApiToken.apiToken.revokedAt).toBe(revokeApiToken.apiToken.revokedAt);
    const recorded = await events(tenant.tokens.READ_ONLY, 'API_TOKEN_REVOKED', apiToken.id);
    expect(recorded).toEqual([
      expect.objectContaining({
        actorUserId: tenant.userIds.ORG_ADMIN,
        details: { userId: tenant.userIds.MEMBER, name: apiToken.name },
      }),
    ]);
    expect(await events(tenant.tokens.READ_ONLY, 'API_TOKEN_CREATED', apiToken.id)).toHaveLength(1);
  });

  it("anyone revokes their own token; an ORG_ADMIN not a peer's; another organization's token is NOT_FOUND", async () => {
    const own = await mint(tenant.tokens.ORG_ADMIN, tenant.userIds.READ_ONLY);
    const selfRevoked = await post<{ revokeApiToken: { apiToken: Token } }>(own.token, REVOKE, { id: own.apiToken.id });
    expect(codes(selfRevoked.body)).toEqual([]);
    expect(selfRevoked.body.data!.revokeApiToken.apiToken.revokedAt).not.toBeNull();

    const peer = await createUserWithToken(stack, tenant.organizationId, 'ORG_ADMIN');
    const { apiTokens } = await mustQuery<{ apiTokens: { edges: Array<{ node: Token }> } }>(
      stack.url,
      peer.token,
      LIST,
    );
    const peerTokenId = apiTokens.edges.find((e) => e.node.userId === peer.userId)!.node.id;
    expect(codes((await post(tenant.tokens.ORG_ADMIN, REVOKE, { id: peerTokenId })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await post(tenant.tokens.MEMBER, REVOKE, { id: peerTokenId })).body)).toEqual(['NOT_FOUND']);
    expect(codes((await post(other.tokens.ORG_ADMIN, REVOKE, { id: peerTokenId })).body)).toEqual(['NOT_FOUND']);
    expect(codes((await post(peer.token, VIEWER)).body)).toEqual([]);
    expect((await tokenRow(peerTokenId)).revoked_at).toBeNull();
    // The platform administrator may.
    expect(codes((await post(stack.adminToken, REVOKE, { id: peerTokenId })).body)).toEqual([]);
    expect(codes((await post(peer.token, VIEWER, {}, '198.51.100.4')).body)).toEqual(['UNAUTHENTICATED']);
  });

  it('an ORG_ADMIN mints tokens for itself and for users below it, not for a peer; another organization: NOT_FOUND', async () => {
    const peer = await createUserWithToken(stack, tenant.organizationId, 'ORG_ADMIN');
    const attempt = (asToken: string, userId: string) =>
      post<{ createApiToken: { token: string } }>(asToken, CREATE_TOKEN, { input: { userId, name: 'try' } });
    expect(codes((await attempt(tenant.tokens.ORG_ADMIN, peer.userId)).body)).toEqual(['FORBIDDEN']);
    expect(codes((await attempt(tenant.tokens.ORG_ADMIN, tenant.userIds.ORG_ADMIN)).body)).toEqual([]);
    expect(codes((await attempt(tenant.tokens.ORG_ADMIN, tenant.userIds.MEMBER)).body)).toEqual([]);
    expect(codes((await attempt(other.tokens.ORG_ADMIN, tenant.userIds.MEMBER)).body)).toEqual(['NOT_FOUND']);
    const platform = await attempt(stack.adminToken, peer.userId);
    expect(codes(platform.body)).toEqual([]);
    const { viewer } = await mustQuery<{ viewer: { user: { id: string } } }>(
      stack.url,
      platform.body.data!.createApiToken.token,
      VIEWER,
    );
    expect(viewer.user.id).toBe(peer.userId);
  });

  it('disabling a user stops its tokens at once (HTTP and WebSocket); enabling brings them back; events say before → after', async () => {
    const user = await createUserWithToken(stack, tenant.organizationId, 'MEMBER', tenant.tokens.ORG_ADMIN);
    const { closed } = await openSubscription(user.token);
    const disable = await mustQuery<{ updateUser: { user: { id: string; role: string; disabled: boolean } } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      UPDATE_USER,
      { input: { userId: user.userId, disabled: true } },
    );
    expect(disable.updateUser.user).toEqual({ id: user.userId, role: 'MEMBER', disabled: true });
    expect(codes((await post(user.token, VIEWER, {}, '198.51.100.5')).body)).toEqual(['UNAUTHENTICATED']);
    expect((await closedWithin(closed)).closed.code).toBe(4401);
    await mustQuery(stack.url, tenant.tokens.ORG_ADMIN, UPDATE_USER, {
      input: { userId: user.userId, disabled: false, role: 'READ_ONLY' },
    });
    const { viewer } = await mustQuery<{ viewer: { user: { role: string } } }>(stack.url, user.token, VIEWER);
    expect(viewer.user.role).toBe('READ_ONLY');
    const updates = await events(tenant.tokens.ORG_ADMIN, 'USER_UPDATED', user.userId);
    expect(updates.map((e) => e.details)).toEqual([
      { before: { role: 'MEMBER', disabled: true }, after: { role: 'READ_ONLY', disabled: false } },
      { before: { role: 'MEMBER', disabled: false }, after: { role: 'MEMBER', disabled: true } },
    ]);
    expect(updates.every((e) => e.actorUserId === tenant.userIds.ORG_ADMIN)).toBe(true);
  });

  it('a role change closes the open WebSockets of the user, which reconnect with the new role', async () => {
    const user = await createUserWithToken(stack, tenant.organizationId, 'MEMBER', tenant.tokens.ORG_ADMIN);
    const { closed } = await openSubscription(user.token);
    await mustQuery(stack.url, tenant.tokens.ORG_ADMIN, UPDATE_USER, {
      input: { userId: user.userId, role: 'READ_ONLY' },
    });
    expect((await closedWithin(closed)).closed.code).toBe(4401);
    expect(codes((await post(user.token, VIEWER)).body)).toEqual([]);
  });

  it('updateUser and deleteUser: never above the caller, never a peer ORG_ADMIN, never oneself, never another organization', async () => {
    const peer = await createUserWithToken(stack, tenant.organizationId, 'ORG_ADMIN');
    const member = await createUserWithToken(stack, tenant.organizationId, 'MEMBER', tenant.tokens.ORG_ADMIN);
    const admin = tenant.tokens.ORG_ADMIN;
    const update = (token: string, input: Record<string, unknown>) => post(token, UPDATE_USER, { input });
    expect(codes((await update(admin, { userId: member.userId, role: 'PLATFORM_ADMIN' })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await update(admin, { userId: member.userId, role: 'SUPPORT' })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await update(admin, { userId: peer.userId, disabled: true })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await update(admin, { userId: peer.userId, role: 'MEMBER' })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await update(admin, { userId: tenant.userIds.ORG_ADMIN, disabled: true })).body)).toEqual([
      'PRECONDITION_FAILED',
    ]);
    expect(codes((await update(admin, { userId: tenant.userIds.ORG_ADMIN, role: 'MEMBER' })).body)).toEqual([
      'PRECONDITION_FAILED',
    ]);
    expect(codes((await update(other.tokens.ORG_ADMIN, { userId: member.userId, disabled: true })).body)).toEqual([
      'NOT_FOUND',
    ]);
    expect(codes((await update(tenant.tokens.MEMBER, { userId: member.userId, disabled: true })).body)).toEqual([
      'FORBIDDEN',
    ]);
    expect(codes((await post(admin, DELETE_USER, { id: peer.userId })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await post(admin, DELETE_USER, { id: tenant.userIds.ORG_ADMIN })).body)).toEqual([
      'PRECONDITION_FAILED',
    ]);
    expect(codes((await post(other.tokens.ORG_ADMIN, DELETE_USER, { id: member.userId })).body)).toEqual(['NOT_FOUND']);
    // Nothing changed: both still sign in with their roles.
    for (const [token, role] of [
      [peer.token, 'ORG_ADMIN'],
      [member.token, 'MEMBER'],
      [admin, 'ORG_ADMIN'],
    ] as const) {
      const { viewer } = await mustQuery<{ viewer: { user: { role: string } } }>(stack.url, token, VIEWER);
      expect(viewer.user.role).toBe(role);
    }
    // An ORG_ADMIN may promote to its own role; the platform administrator may act on a peer.
    expect(codes((await update(admin, { userId: member.userId, role: 'ORG_ADMIN' })).body)).toEqual([]);
    expect(codes((await update(stack.adminToken, { userId: peer.userId, disabled: true })).body)).toEqual([]);
  });

  it('deleteUser removes the user and its tokens (HTTP and WebSocket); history keeps its id', async () => {
    const user = await createUserWithToken(stack, tenant.organizationId, 'MEMBER', tenant.tokens.ORG_ADMIN);
    const { apiToken } = await mint(tenant.tokens.ORG_ADMIN, user.userId);
    // Something the user did, for the history.
    const { createEnvironment } = await mustQuery<{ createEnvironment: { environment: { id: string } } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      `mutation { createEnvironment(input: { name: "doomed-${unique()}" }) { environment { id } } }`,
    );
    expect(createEnvironment.environment.id).toEqual(expect.any(String));
    const { closed } = await openSubscription(user.token);
    const deleted = await mustQuery<{ deleteUser: { user: { id: string; role: string } } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      DELETE_USER,
      { id: user.userId },
    );
    expect(deleted.deleteUser.user).toMatchObject({ id: user.userId, role: 'MEMBER' });
    expect(codes((await post(user.token, VIEWER, {}, '198.51.100.6')).body)).toEqual(['UNAUTHENTICATED']);
    expect((await closedWithin(closed)).closed.code).toBe(4401);
    expect(await tokenRow(apiToken.id)).toBeUndefined();
    const [event] = await events(tenant.tokens.ORG_ADMIN, 'USER_DELETED', user.userId);
    expect(event.actorUserId).toBe(tenant.userIds.ORG_ADMIN);
    expect(event.details).toMatchObject({ role: 'MEMBER', removedTokenIds: expect.arrayContaining([apiToken.id]) });
    // The user.created event of the deleted user stays, with its id.
    expect(await events(tenant.tokens.ORG_ADMIN, 'USER_CREATED', user.userId)).toHaveLength(1);
    expect(codes((await post(tenant.tokens.ORG_ADMIN, DELETE_USER, { id: user.userId })).body)).toEqual(['NOT_FOUND']);
  });

  it("e-mail addresses are unique per organization: another organization's address is simply accepted", async () => {
    const email = `shared-${unique()}@example.test`;
    const create = (token: string, organizationId: string) =>
      post<{ createUser: { user: { email: string; disabled: boolean } } }>(token, CREATE_USER, {
        input: { organizationId, email, role: 'MEMBER' },
      });
    const first = await create(other.tokens.ORG_ADMIN, other.organizationId);
    expect(first.body.data!.createUser.user).toMatchObject({ email, disabled: false });
    const second = await create(tenant.tokens.ORG_ADMIN, tenant.organizationId);
    expect(codes(second.body)).toEqual([]);
    const again = await create(tenant.tokens.ORG_ADMIN, tenant.organizationId);
    expect(codes(again.body)).toEqual(['CONFLICT']);
    const created = await events(tenant.tokens.ORG_ADMIN, 'USER_CREATED');
    expect(created.some((e) => (e.details as { email: string }).email === email)).toBe(true);
    // The bootstrap administrator (found by its address within the platform organization) still signs in.
    expect(codes((await post(stack.adminToken, VIEWER)).body)).toEqual([]);
  });

  it('failed bearer authentication: 429 with Retry-After after the limit; good tokens from the same address still work', async () => {
    const ip = '203.0.113.7';
    const bad = `sdk_${randomBytes(32).toString('base64url')}`;
    // Successful requests are not counted.
    for (let i = 0; i < LIMIT * 2; i++)
      expect(codes((await post(tenant.tokens.MEMBER, VIEWER, {}, ip)).body)).toEqual([]);
    for (let i = 0; i < LIMIT; i++) {
      const refused = await post(bad, VIEWER, {}, ip);
      expect(refused.status).not.toBe(429);
      expect(codes(refused.body)).toEqual(['UNAUTHENTICATED']);
    }
    const limited = await post(bad, VIEWER, {}, ip);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(limited.body.data ?? null).toBeNull();
    expect(limited.body.errors).toEqual([
      {
        message: expect.stringMatching(/Too many failed authentications/) as unknown,
        extensions: { code: 'UNAUTHENTICATED', retryAfterSeconds: retryAfter },
      },
    ]);
    // A token that works, from the same address, is neither refused nor slowed.
    const started = Date.now();
    const good = await post(tenant.tokens.MEMBER, VIEWER, {}, ip);
    expect(good.status).toBe(200);
    expect(codes(good.body)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
    // A request without credentials is answered as always; another address is not limited.
    expect(codes((await post(null, VIEWER, {}, ip)).body)).toEqual(['UNAUTHENTICATED']);
    const elsewhere = await post(bad, VIEWER, {}, '203.0.113.8');
    expect(elsewhere.status).not.toBe(429);
    expect(codes(elsewhere.body)).toEqual(['UNAUTHENTICATED']);
  });
  it('failed WebSocket sign-ins spend the same budget per address; a good token still connects', async () => {
    const ip = '203.0.113.9';
    /** A graphql-ws connection from client address `ip`; resolves with how it closed, or 'open'. */
    const attempt = (token: string) =>
      new Promise<{ code: number; reason: string } | 'open'>((resolve) => {
        class FromIp extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { headers: { 'x-forwarded-for': ip } });
          }
        }
        const client = createClient({
          url: `${stack.url.replace(/^http/, 'ws')}/graphql`,
          webSocketImpl: FromIp,
          connectionParams: { authorization: `Bearer ${token}` },
          lazy: false,
          retryAttempts: 0,
          onNonLazyError: () => undefined,
          on: {
            connected: () => resolve('open'),
            closed: (event) => {
              const { code, reason } = event as { code: number; reason: string | Buffer };
              resolve({ code, reason: String(reason) });
            },
          },
        });
        closers.push(() => client.dispose());
      });
    const bad = `sdk_${randomBytes(32).toString('base64url')}`;
    for (let i = 0; i < LIMIT; i++) expect(await attempt(bad)).toEqual({ code: 4401, reason: 'Invalid bearer token' });
    // HTTP from the same address is past the limit now, and so is the next WebSocket.
    expect((await post(bad, VIEWER, {}, ip)).status).toBe(429);
    expect(await attempt(bad)).toEqual({
      code: 4401,
      reason: expect.stringMatching(
        /^Too many failed authentications from this address; try again in \d+ s$/,
      ) as unknown,
    });
    expect(await attempt(tenant.tokens.MEMBER)).toBe('open');
  });
});
