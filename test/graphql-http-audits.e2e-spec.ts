/**
 * The graphql-http server audits (GraphQL over HTTP spec conformance, a suite nobody here wrote) against the
 * api in production mode. The audits' fetch is authenticated with a bearer token, as every client of this api
 * must be ({ __typename } and introspection want one); every MUST passes, the SHOULD and MAY results are
 * printed with their reasons.
 */
import { describeWith } from '@snapdeck/testing';
import { serverAudits, type AuditResult } from 'graphql-http';
import { startStack, type Stack } from './support/stack.js';
import { createTenant } from './support/tenants.js';

/**
 * Audits that cannot apply here, by id, with the reason. (None today: keep the reason next to any id added.)
 */
const NOT_APPLICABLE: Readonly<Record<string, string>> = {};

describeWith(['redis'], 'graphql-http server audits', () => {
  let stack: Stack;
  let token: string;
  const results: AuditResult[] = [];

  beforeAll(async () => {
    stack = await startStack();
    token = (await createTenant(stack)).tokens.READ_ONLY;
  });

  afterAll(async () => {
    const count = (level: string, ok: boolean) =>
      results.filter((r) => r.name.startsWith(level) && (r.status === 'ok') === ok).length;
    const lines = ['MUST', 'SHOULD', 'MAY'].map(
      (level) => `${level}: ${count(level, true)} passed, ${count(level, false)} failed`,
    );
    const failed = results
      .filter((r) => r.status !== 'ok')
      .map((r) => `  ${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    console.log(['graphql-http serverAudits', ...lines, ...failed].join('\n'));
    await stack?.close();
  });

  const audits = serverAudits({
    url: () => `${stack.url}/graphql`,
    // A real client of this api: a bearer token on every request (RequestInit headers may be any HeadersInit).
    fetchFn: (input: Parameters<typeof fetch>[0], init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  });

  describe('queries as GET (what docs/api-guide.md says of urql and Apollo Client)', () => {
    const get = async (query: string, headers: Record<string, string> = {}) => {
      const url = new URL(`${stack.url}/graphql`);
      url.searchParams.set('query', query);
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
      const body = (await response.json()) as {
        data?: unknown;
        errors?: Array<{ message: string; extensions?: { code?: string } }>;
      };
      return { status: response.status, body };
    };

    it('refuses a GET without a preflight header as a potential CSRF: 400, BAD_USER_INPUT', async () => {
      const answer = await get('{ viewer { user { role } } }');
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(answer.body.errors?.[0].message).toMatch(/CSRF/);
    });

    it.each<Record<string, string>>([{ 'apollo-require-preflight': 'true' }, { 'content-type': 'application/json' }])(
      'answers a GET with %o',
      async (headers) => {
        const answer = await get('{ viewer { user { role } } }', headers);
        expect(answer).toEqual({ status: 200, body: { data: { viewer: { user: { role: 'READ_ONLY' } } } } });
      },
    );

    it('never runs a mutation sent as GET', async () => {
      const answer = await get('mutation { createEnvironment(input: { name: "by-get" }) { environment { id } } }', {
        'apollo-require-preflight': 'true',
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    });
  });

  it('has audits to run', () => {
    expect(audits.length).toBeGreaterThan(30);
  });

  for (const audit of audits) {
    const skip = NOT_APPLICABLE[audit.id];
    const run = skip ? it.skip : it;
    run(`${audit.id} ${audit.name}${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      const result = await audit.fn();
      results.push(result);
      if (audit.name.startsWith('MUST') && result.status !== 'ok') {
        const body = await result.response.text().catch(() => '');
        throw new Error(`${result.reason} (${result.response.status}: ${body.slice(0, 500)})`);
      }
    });
  }
});
