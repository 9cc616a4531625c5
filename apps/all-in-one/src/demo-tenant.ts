import { readFile, writeFile } from 'node:fs/promises';

export interface DemoTenant {
  organizationId?: string;
  token: string;
  /** True when this start created it. */
  created: boolean;
}

/**
 * The first start makes a demo organization with one ORG_ADMIN user and a token, through the api's own
 * GraphQL mutations (so it is made exactly as a script would make it); the token is kept in a file, since the
 * database stores only its hash, and every later start prints it again.
 */
export async function ensureDemoTenant(graphqlUrl: string, adminToken: string, tokenFile: string): Promise<DemoTenant> {
  const kept = await readFile(tokenFile, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (kept) return { token: kept, created: false };

  const call = graphqlCaller(graphqlUrl, adminToken);
  const org = await call<{ createOrganization: { organization: { id: string } } }>(
    'mutation($n: String!) { createOrganization(input: {name: $n}) { organization { id } } }',
    { n: 'demo' },
  );
  const organizationId = org.createOrganization.organization.id;
  const user = await call<{ createUser: { user: { id: string } } }>(
    'mutation($o: ID!) { createUser(input: {organizationId: $o, email: "demo@snapdeck.local", role: ORG_ADMIN}) { user { id } } }',
    { o: organizationId },
  );
  const issued = await call<{ createApiToken: { token: string } }>(
    'mutation($u: ID!) { createApiToken(input: {userId: $u, name: "demo"}) { token } }',
    { u: user.createUser.user.id },
  );
  const token = issued.createApiToken.token;
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return { organizationId, token, created: true };
}

function graphqlCaller(url: string, token: string) {
  return async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as {
      data?: T;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    if (body.errors?.length || !body.data) {
      const first = body.errors?.[0];
      throw new Error(
        `Could not create the demo tenant: ${first?.extensions?.code ?? response.status} ${first?.message ?? ''}`,
      );
    }
    return body.data;
  };
}
