/**
 * What a newcomer's tools see, on the real stack in production mode (api + a simulator agent, PostgreSQL,
 * Redis): the schema the api serves is the committed schema.graphql; GraphiQL and everything it loads come from
 * this server; lists page both ways with cursors that belong to one list; events, jobs and hosts speak enums, and
 * an event is a Node within its organization.
 */
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { describeWith } from '@snapdeck/testing';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInstance } from './support/flows.js';
import { errorCodes, eventually, mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

/** Written by `npm run build` (apps/api/src/graphql/schema-file.ts). */
const SCHEMA_FILE = 'schema.graphql';

describeWith(['redis'], 'schema, GraphiQL, pagination and enums (production stack)', () => {
  let stack: Stack;
  let tenant: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    stack = await startStack({ agents: ['kvm-schema'], agentEnv: { AGENT_DRIVER: 'simulator' } });
    [tenant, other] = await Promise.all([createTenant(stack), createTenant(stack)]);
  });
  afterAll(() => stack?.close());

  const base = () => stack.url;

  it(`serves exactly the committed ${SCHEMA_FILE}`, async () => {
    const served = `${printSchema(lexicographicSortSchema(stack.app.get(GraphQLSchemaHost).schema))}\n`;
    const committed = await readFile(join(process.cwd(), SCHEMA_FILE), 'utf8');
    expect(served === committed).toBe(true);
  });

  describe('GET /graphiql', () => {
    it('answers the page with a CSP that allows this origin only, and loads nothing from another host', async () => {
      const response = await fetch(`${base()}/graphiql`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/https?:|\*/);
      const html = await response.text();
      expect(html).not.toMatch(/https?:\/\/|\/\/[a-z]/i);
      const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(references.sort()).toEqual(
        [
          'graphiql.min.css',
          'graphiql.min.js',
          'react-dom.production.min.js',
          'react.production.min.js',
          'snapdeck-graphiql.js',
        ].map((name) => `/graphiql/assets/${name}`),
      );
      for (const reference of references) {
        const asset = await fetch(`${base()}${reference}`);
        expect([reference, asset.status]).toEqual([reference, 200]);
        expect(asset.headers.get('content-type')).toMatch(
          reference.endsWith('.css') ? /^text\/css/ : /^text\/javascript/,
        );
        const body = await asset.text();
        expect(body.length).toBeGreaterThan(reference.includes('snapdeck') ? 100 : 5000);
        // Styles pull fonts and icons from data: URLs only; no script names a host to load from.
        expect(body).not.toMatch(/url\(\s*['"]?(?:https?:)?\/\//);
        expect(body).not.toMatch(/(?:unpkg|jsdelivr|cdnjs)\./);
      }
      expect((await fetch(`${base()}/graphiql/assets/..%2Fpackage.json`)).status).toBe(404);
      expect((await fetch(`${base()}/graphiql/assets/app.js`)).status).toBe(404);
    });

    it("the page's script sends the bearer token to this origin's /graphql", async () => {
      const script = await (await fetch(`${base()}/graphiql/assets/snapdeck-graphiql.js`)).text();
      expect(script).toContain("fetch('/graphql'");
      expect(script).toContain("'Bearer ' + token");
    });
  });

  describe('pagination', () => {
    const ENVIRONMENTS = `query($first: Int, $after: String, $last: Int, $before: String) {
      environments(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
    type Environments = {
      environments: {
        edges: Array<{ cursor: string; node: { id: string } }>;
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
      };
    };
    const page = async (variables: Record<string, unknown>) =>
      (await mustQuery<Environments>(base(), tenant.tokens.ORG_ADMIN, ENVIRONMENTS, variables)).environments;

    beforeAll(async () => {
      for (let i = 0; i < 4; i++) {
        await mustQuery(
          base(),
          tenant.tokens.ORG_ADMIN,
          `mutation($n: String!) { createEnvironment(input: { name: $n }) { environment { id } } }`,
          {
            n: `paged-${i}`,
          },
        );
      }
    });

    it('walks 5 environments forwards by 2, then back with last/before to the start', async () => {
      const one = await page({ first: 2 });
      const two = await page({ first: 2, after: one.pageInfo.endCursor });
      const three = await page({ first: 2, after: two.pageInfo.endCursor });
      expect(
        [one, two, three].map((p) => [p.edges.length, p.pageInfo.hasPreviousPage, p.pageInfo.hasNextPage]),
      ).toEqual([
        [2, false, true],
        [2, true, true],
        [1, true, false],
      ]);
      expect(two.pageInfo.startCursor).toBe(two.edges[0].cursor);
      const back = await page({ last: 2, before: two.pageInfo.startCursor });
      expect(back.edges.map((e) => e.node.id)).toEqual(one.edges.map((e) => e.node.id));
      expect([back.pageInfo.hasPreviousPage, back.pageInfo.hasNextPage]).toEqual([false, true]);
      const tail = await page({ last: 1 });
      expect(tail.edges.map((e) => e.node.id)).toEqual(three.edges.map((e) => e.node.id));
    });

    it("answers BAD_USER_INPUT for another list's cursor, another tenant's, first with last, last over 100", async () => {
      const cursor = (await page({ first: 1 })).pageInfo.endCursor;
      const token = tenant.tokens.ORG_ADMIN;
      expect(
        await errorCodes(base(), token, `query($c: String) { volumes(after: $c) { totalCount } }`, { c: cursor }),
      ).toEqual(['BAD_USER_INPUT']);
      expect(
        await errorCodes(base(), token, `query($c: String) { snapshots(last: 2, before: $c) { totalCount } }`, {
          c: cursor,
        }),
      ).toEqual(['BAD_USER_INPUT']);
      expect(
        await errorCodes(
          base(),
          other.tokens.ORG_ADMIN,
          `query($c: String) { environments(after: $c) { totalCount } }`,
          { c: cursor },
        ),
      ).toEqual(['BAD_USER_INPUT']);
      expect(await errorCodes(base(), token, `{ environments(first: 1, last: 1) { totalCount } }`)).toEqual([
        'BAD_USER_INPUT',
      ]);
      expect(await errorCodes(base(), token, `{ environments(last: 101) { totalCount } }`)).toEqual(['BAD_USER_INPUT']);
    });
  });

  it('events, jobs and hosts speak enums; an event is a Node of its own organization only', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'enum-1',
    });
    const EVENTS = `query($id: ID!) { events(filter: { resourceId: $id, type: INSTANCE_CREATED }) { edges { node { id type resourceType } } } }`;
    const event = await eventually(
      async () => {
        const { events } = await mustQuery<{ events: { edges: Array<{ node: { id: string; type: string } }> } }>(
          base(),
          tenant.tokens.READ_ONLY,
          EVENTS,
          { id: instance.id },
        );
        return events.edges[0]?.node ?? null;
      },
      20000,
      'the instance.created event',
    );
    expect(event).toMatchObject({ type: 'INSTANCE_CREATED', resourceType: 'Instance' });

    const NODE = `query($id: ID!) { node(id: $id) { __typename id ... on Event { type } } }`;
    expect((await mustQuery(base(), tenant.tokens.READ_ONLY, NODE, { id: event.id })).node).toEqual({
      __typename: 'Event',
      id: event.id,
      type: 'INSTANCE_CREATED',
    });
    expect((await mustQuery(base(), other.tokens.ORG_ADMIN, NODE, { id: event.id })).node).toBeNull();

    // The filter takes the enum only: the stored string is not a value of it.
    expect(
      await errorCodes(
        base(),
        tenant.tokens.READ_ONLY,
        `{ events(filter: { type: "instance.created" }) { totalCount } }`,
      ),
    ).toEqual(['BAD_USER_INPUT']);

    const { hosts } = await mustQuery<{ hosts: { edges: Array<{ node: { name: string; driver: string } }> } }>(
      base(),
      stack.adminToken,
      `{ hosts { edges { node { name driver } } } }`,
    );
    expect(hosts.edges.map((e) => e.node)).toContainEqual({ name: 'kvm-schema', driver: 'SIMULATOR' });

    const { createSnapshot } = await mustQuery<{ createSnapshot: { job: { type: string } } }>(
      base(),
      tenant.tokens.MEMBER,
      `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { job { type } } }`,
      { v: instance.volumes[0].id },
    );
    expect(createSnapshot.job.type).toBe('CREATE_SNAPSHOT');
  });
});
