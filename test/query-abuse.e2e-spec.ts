/**
 * Query cost and abuse (OWASP GraphQL cheat sheet) against the api in production mode: root fields and
 * aliases are limited, `node(id)` costs its lookups, a refusal is HTTP 400 with BAD_USER_INPUT (on
 * WebSocket too), no input reaches a 500 (NUL bytes, lone surrogates, a subscription over POST, a persisted
 * query whose hash does not match), every error has a code (a body over the limit, malformed JSON), no
 * "Did you mean", and `{ __typename }` or introspection wants a bearer token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describeWith } from '@snapdeck/testing';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { Collected, connect } from './support/subscriptions.js';
import { createTenant, type Tenant } from './support/tenants.js';

interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

const codes = (answer: Answer) => (answer.body.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');
const unique = () => randomBytes(4).toString('hex');

/** The tables node(id) asks (NODE_LOOKUPS in apps/api/src/nodes/nodes.resolver.ts) and the cost of each. */
const NODE_LOOKUPS = 18;
const LOOKUP_COST = 10;

describeWith(['redis', 'qemu-img'], 'query cost and abuse', () => {
  let stack: Stack;
  let tenant: Tenant;
  const clients: Array<{ dispose(): Promise<void> | void }> = [];

  async function send(body: string, headers: Record<string, string> = {}, token: string | null = null) {
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body,
    });
    const text = await response.text();
    let parsed: Answer['body'];
    try {
      parsed = JSON.parse(text) as Answer['body'];
    } catch {
      throw new Error(`Not JSON (${response.status}): ${text.slice(0, 500)}`);
    }
    const answer = {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text,
      body: parsed,
    };
    for (const error of parsed.errors ?? []) expect(error.extensions?.code).toEqual(expect.any(String));
    expect(text).not.toMatch(/\n\s+at |node_modules|\/work\//);
    return answer;
  }

  const ask = (query: string, variables: Record<string, unknown> = {}, token: string | null = tenant.tokens.MEMBER) =>
    send(JSON.stringify({ query, variables }), {}, token);

  const environmentCount = async () =>
    (
      await mustQuery<{ environments: { totalCount: number } }>(
        stack.url,
        tenant.tokens.MEMBER,
        '{ environments { totalCount } }',
      )
    ).environments.totalCount;

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-a'] });
    tenant = await createTenant(stack);
  });

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await stack?.close();
  });

  describe('cost and limits', () => {
    it('refuses 4,500 node(id) in one 98 KB read-only request before any lookup: 400, BAD_USER_INPUT', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      const fields = Array.from({ length: 4500 }, (_, i) => `n${i}:node(id:$i){id}`).join(' ');
      const body = JSON.stringify({ query: `query($i:ID!){${fields}}`, variables: { i: id } });
      expect(body.length).toBeGreaterThan(90_000);
      const answer = await send(body, {}, tenant.tokens.MEMBER);
      // 400 is a validation refusal: Apollo answers it before execution starts, so no node was looked up.
      expect(answer.status).toBe(400);
      expect(codes(answer)[0]).toBe('BAD_USER_INPUT');
      expect(answer.body.errors!.map((e) => e.message).join(' ')).toMatch(/root fields|Aliases limit/);
      expect(answer.body.data ?? null).toBeNull();
    });

    it('refuses 500 aliased createEnvironment in one request: nothing is created', async () => {
      const before = await environmentCount();
      const fields = Array.from(
        { length: 500 },
        (_, i) => `e${i}: createEnvironment(input: { name: "bulk-${unique()}-${i}" }) { environment { id } }`,
      ).join(' ');
      const answer = await ask(`mutation { ${fields} }`, {}, tenant.tokens.ORG_ADMIN);
      expect(answer.status).toBe(400);
      expect(codes(answer)).toContain('BAD_USER_INPUT');
      expect(await environmentCount()).toBe(before);
    });

    it('limits root fields even without aliases (fragments count) and aliases at any depth', async () => {
      const limit = stack.apiConfig.GRAPHQL_MAX_ROOT_FIELDS;
      const spread = Array.from({ length: limit + 1 }, () => '...F').join(' ');
      const viaFragments = await ask(`query { ${spread} } fragment F on Query { viewer { user { id } } }`);
      expect(viaFragments.status).toBe(400);
      expect(viaFragments.body.errors!.map((e) => e.message)).toContain(
        `Too many root fields: ${limit + 1}, the limit is ${limit} per operation`,
      );

      const aliases = stack.apiConfig.GRAPHQL_MAX_ALIASES;
      const nested = Array.from({ length: aliases + 1 }, (_, i) => `a${i}: id`).join(' ');
      const deep = await ask(`{ viewer { user { ${nested} } } }`);
      expect(deep.status).toBe(400);
      expect(codes(deep)).toEqual(['BAD_USER_INPUT']);
      expect(deep.body.errors![0].message).toMatch(`Aliases limit of ${aliases} exceeded`);

      const atLimit = Array.from({ length: aliases }, (_, i) => `a${i}: id`).join(' ');
      expect((await ask(`{ viewer { user { ${atLimit} } } }`)).body.errors).toBeUndefined();
    });

    it('prices node(id) at one lookup per table it asks: the cost limit answers 400 with BAD_USER_INPUT', async () => {
      // 20 node(id) fit the root-field limit; each costs NODE_LOOKUPS lookups of LOOKUP_COST plus its selection.
      const select = `snapshots(first: 100) { edges { node { volume { snapshots(first: 10) { totalCount } } } } }`;
      const fields = Array.from({ length: 20 }, (_, i) => `n${i}: node(id: $i) { ... on Volume { ${select} } }`);
      const answer = await ask(`query($i: ID!) { ${fields.join(' ')} }`, { i: tenant.environmentId });
      expect(answer.status).toBe(400);
      expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      const cost = Number(
        /Query is too expensive: cost (\d+), the limit is 20000/.exec(answer.body.errors![0].message)?.[1],
      );
      const selection = 1 + 100 * (1 + 1 + 1 + (1 + 10 * 1)); // the connection, its edges, node, volume
      expect(cost).toBe(20 * (NODE_LOOKUPS * LOOKUP_COST + selection));
      const cheap = await ask(`query($i: ID!) { node(id: $i) { id } }`, { i: tenant.environmentId });
      expect(cheap.body.errors).toBeUndefined();
      expect(cheap.body.data).toEqual({ node: { id: tenant.environmentId } });
    });

    it('refuses an expensive subscription over WebSocket with BAD_USER_INPUT', async () => {
      const { client } = connect(stack.url, { authorization: `Bearer ${tenant.tokens.MEMBER}` });
      clients.push(client);
      const aliases = Array.from({ length: stack.apiConfig.GRAPHQL_MAX_ALIASES + 1 }, (_, i) => `a${i}: removed`);
      const refused = new Collected(
        client,
        `subscription($e: ID!) { snapshotUpdated(environmentId: $e) { ${aliases.join(' ')} } }`,
        {
          e: tenant.environmentId,
        },
      );
      await refused.ended;
      expect(refused.codes()).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(refused.errors)).not.toContain('"http"');
    });
  });

  describe('no INTERNAL_SERVER_ERROR from input', () => {
    it('refuses a NUL byte in a variable and in a literal, in any string argument', async () => {
      // A cursor is the one free-text argument of a query (the events filter's type is an enum).
      const events = `query($a: String) { events(after: $a) { totalCount } }`;
      const viaVariable = await ask(events, { a: 'SNAPSHOT\u0000' });
      expect([viaVariable.status, codes(viaVariable)]).toEqual([400, ['BAD_USER_INPUT']]);
      expect(viaVariable.body.errors![0].message).toMatch(/variables\.a contains a NUL character/);
      const viaLiteral = await ask(`{ events(after: "a\\u0000b") { totalCount } }`);
      expect([viaLiteral.status, codes(viaLiteral)]).toEqual([400, ['BAD_USER_INPUT']]);
      const nested = await ask(
        `mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { environment { id } } }`,
        {
          input: { name: 'x\u0000y' },
        },
        tenant.tokens.ORG_ADMIN,
      );
      expect(codes(nested)).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses a lone surrogate (createUser email) and still takes a real astral character', async () => {
      const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`;
      const lone = await ask(
        CREATE_USER,
        {
          input: { organizationId: tenant.organizationId, email: `a\ud800b-${unique()}@example.test`, role: 'MEMBER' },
        },
        tenant.tokens.ORG_ADMIN,
      );
      expect([lone.status, codes(lone)]).toEqual([400, ['BAD_USER_INPUT']]);
      expect(lone.body.errors![0].message).toMatch(/lone UTF-16 surrogate/);
      // Past the string check, the cursor itself is judged (and refused as a cursor, not as text).
      const astral = await ask(`query($a: String) { events(after: $a) { totalCount } }`, { a: `c1_\u{1F600}` });
      expect(codes(astral)).toEqual(['BAD_USER_INPUT']);
      expect(astral.body.errors![0].message).toMatch(/is not a valid cursor/);
    });

    it('answers a subscription sent over HTTP POST with 400 and the way to WebSocket', async () => {
      const answer = await ask(`subscription($e: ID!) { snapshotUpdated(environmentId: $e) { removed } }`, {
        e: tenant.environmentId,
      });
      expect([answer.status, codes(answer)]).toEqual([400, ['BAD_USER_INPUT']]);
      expect(answer.body.errors![0].message).toMatch(/WebSocket/);
    });

    it('answers a persisted query whose sha256 does not match with a code, not a 500', async () => {
      const query = '{ viewer { user { id } } }';
      const wrong = createHash('sha256').update('something else').digest('hex');
      const mismatch = await send(
        JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: wrong } } }),
        {},
        tenant.tokens.MEMBER,
      );
      expect([mismatch.status, codes(mismatch)]).toEqual([400, ['BAD_USER_INPUT']]);
      const version = await send(
        JSON.stringify({ query, extensions: { persistedQuery: { version: 2, sha256Hash: wrong } } }),
        {},
        tenant.tokens.MEMBER,
      );
      expect([version.status, codes(version)]).toEqual([400, ['BAD_USER_INPUT']]);
      const right = createHash('sha256').update(query).digest('hex');
      const registered = await send(
        JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: right } } }),
        {},
        tenant.tokens.MEMBER,
      );
      expect(registered.body.errors).toBeUndefined();
    });

    it('delivers the removed snapshotUpdated event with snapshot.volume after destroyInstance', async () => {
      const { createEnvironment } = await mustQuery<{ createEnvironment: { environment: { id: string } } }>(
        stack.url,
        tenant.tokens.ORG_ADMIN,
        `mutation($n: String!) { createEnvironment(input: { name: $n }) { environment { id } } }`,
        { n: `env-${unique()}` },
      );
      const environmentId = createEnvironment.environment.id;
      const instance = await createInstance(stack, tenant.tokens.MEMBER, { environmentId, name: `vm-${unique()}` });
      const volumeId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
      const { client } = connect(stack.url, { authorization: `Bearer ${tenant.tokens.MEMBER}` });
      clients.push(client);
      type Update = { removed: boolean; snapshot: { id: string; state: string; volume: { id: string; name: string } } };
      const updates = new Collected<Update>(
        client,
        `subscription($e: ID!) { snapshotUpdated(environmentId: $e) { removed snapshot { id state volume { id name } } } }`,
        { e: environmentId },
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // the subscription is registered
      const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string } } }>(
        stack.url,
        tenant.tokens.MEMBER,
        `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id } } }`,
        { v: volumeId },
      );
      await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
      await mustQuery(
        stack.url,
        tenant.tokens.MEMBER,
        `mutation($i: ID!) { destroyInstance(input: { instanceId: $i, expungeSnapshots: true }) { job { id } } }`,
        { i: instance.id },
      );
      await updates.until((events) => events.some((u) => u.removed), 'the removed event');
      updates.stop();
      expect(updates.errors).toEqual([]);
      const removed = updates.events.find((u) => u.removed)!;
      expect(removed.snapshot).toMatchObject({ id: createSnapshot.snapshot.id, volume: { id: volumeId } });
      expect(removed.snapshot.volume.name).toEqual(expect.any(String));
    });
  });

  describe('every error has a code', () => {
    it('answers a body over the size limit with 413, JSON and BAD_USER_INPUT naming the limit', async () => {
      const answer = await send(
        JSON.stringify({ query: `{ viewer { user { id } } }`, variables: { pad: 'x'.repeat(200_000) } }),
      );
      expect(answer.status).toBe(413);
      expect(answer.contentType).toMatch(/application\/json/);
      expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.body.errors![0].message).toMatch(/larger than the limit of 100 KiB/);
    });

    it('answers malformed JSON with 400, JSON and BAD_USER_INPUT, never HTML or a stack', async () => {
      const answer = await send('{"query": "{ viewer { id } }", ', {}, tenant.tokens.MEMBER);
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/application\/json/);
      expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.text).not.toMatch(/<html|<pre/i);
    });
  });

  describe('schema details and authentication', () => {
    it('names no field in a validation error ("Did you mean" is off in production)', async () => {
      const answer = await ask('{ viewr { user { id } } }');
      expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.body.errors![0].message).not.toMatch(/Did you mean/);
      const enumValue = await ask(`{ viewer { user { role } } snapshots(orderBy: CREATED) { totalCount } }`);
      expect(codes(enumValue)[0]).toBe('BAD_USER_INPUT');
      expect(enumValue.text).not.toMatch(/Did you mean/);
      const variable = await ask(
        `mutation($r: Role!) { createUser(input: { organizationId: "${tenant.organizationId}", email: "x@example.test", role: $r }) { user { id } } }`,
        { r: 'MEMBR' },
        tenant.tokens.ORG_ADMIN,
      );
      expect(codes(variable)).toEqual(['BAD_USER_INPUT']);
      expect(variable.text).not.toMatch(/Did you mean/);
    });

    it('answers { __typename } without a token with UNAUTHENTICATED, with one with data', async () => {
      const anonymous = await ask('{ __typename }', {}, null);
      expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
      expect(anonymous.body.data ?? null).toBeNull();
      const invalid = await ask('{ __typename }', {}, 'not-a-token');
      expect(codes(invalid)).toEqual(['UNAUTHENTICATED']);
      const member = await ask('{ __typename }');
      expect(member.body).toEqual({ data: { __typename: 'Query' } });
    });

    it('serves introspection in production to an authenticated caller only', async () => {
      const query = '{ __schema { queryType { name } } }';
      expect(codes(await ask(query, {}, null))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await ask('{ __type(name: "Snapshot") { name } }', {}, null))).toEqual(['UNAUTHENTICATED']);
      expect((await ask(query, {}, tenant.tokens.READ_ONLY)).body).toEqual({
        data: { __schema: { queryType: { name: 'Query' } } },
      });
    });
  });
});
