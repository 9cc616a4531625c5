import { randomBytes } from 'node:crypto';
import { mustQuery } from './graphql-client.js';
import type { ApiTarget } from './stack.js';

export interface Tenant {
  organizationId: string;
  environmentId: string;
  /** Bearer tokens by role within the organization. */
  tokens: { ORG_ADMIN: string; MEMBER: string; READ_ONLY: string };
  userIds: { ORG_ADMIN: string; MEMBER: string; READ_ONLY: string };
}

const unique = () => randomBytes(4).toString('hex');

export async function createUserWithToken(
  stack: ApiTarget,
  organizationId: string,
  role: string,
  asToken = stack.adminToken,
) {
  const { createUser } = await mustQuery<{ createUser: { user: { id: string } } }>(
    stack.url,
    asToken,
    `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`,
    { input: { organizationId, email: `${role.toLowerCase()}-${unique()}@example.test`, role } },
  );
  const { createApiToken } = await mustQuery<{ createApiToken: { token: string } }>(
    stack.url,
    asToken,
    `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }`,
    { input: { userId: createUser.user.id, name: 'e2e' } },
  );
  return { userId: createUser.user.id, token: createApiToken.token };
}

/** A fresh organization with one user per organization role and one environment, made through GraphQL. */
export async function createTenant(stack: ApiTarget, name = `org-${unique()}`): Promise<Tenant> {
  const { createOrganization } = await mustQuery<{ createOrganization: { organization: { id: string } } }>(
    stack.url,
    stack.adminToken,
    `mutation($name: String!) { createOrganization(input: { name: $name }) { organization { id } } }`,
    { name },
  );
  const organizationId = createOrganization.organization.id;
  const admin = await createUserWithToken(stack, organizationId, 'ORG_ADMIN');
  const member = await createUserWithToken(stack, organizationId, 'MEMBER', admin.token);
  const reader = await createUserWithToken(stack, organizationId, 'READ_ONLY', admin.token);
  const { createEnvironment } = await mustQuery<{ createEnvironment: { environment: { id: string } } }>(
    stack.url,
    admin.token,
    `mutation { createEnvironment(input: { name: "production" }) { environment { id } } }`,
  );
  return {
    organizationId,
    environmentId: createEnvironment.environment.id,
    tokens: { ORG_ADMIN: admin.token, MEMBER: member.token, READ_ONLY: reader.token },
    userIds: { ORG_ADMIN: admin.userId, MEMBER: member.userId, READ_ONLY: reader.userId },
  };
}
