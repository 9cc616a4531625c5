/**
 * Role × operation matrix over the operations that exist today. Each cell is one test: the caller of that
 * role runs the operation against one tenant's resources (support and platform staff sit in other
 * organizations), and either succeeds with the expected effect, or is refused with the expected code and
 * leaves everything as it was.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeWith } from '@snapdeck/testing';
import { diskSnapshotTags } from './support/disk.js';
import { eventually, graphql, mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { createImage, fileExists, templateFile } from './support/patterns.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, createUserWithToken, type Tenant } from './support/tenants.js';

type Role = 'READ_ONLY' | 'MEMBER' | 'ORG_ADMIN' | 'SUPPORT' | 'PLATFORM_ADMIN';
type Expected = 'OK' | 'FORBIDDEN' | 'NOT_FOUND';
const ROLES: Role[] = ['READ_ONLY', 'MEMBER', 'ORG_ADMIN', 'SUPPORT', 'PLATFORM_ADMIN'];

interface Connection {
  totalCount: number;
  edges: Array<{ node: { id: string } }>;
}
type Check = () => void | Promise<void>;

interface Outcome {
  response: GraphQLResponse<object>;
  /** Asserts the effect of a successful call. */
  succeeded: Check;
  /** Asserts that a refused call changed nothing. */
  unchanged: Check;
}

interface Fixture {
  stack: Stack;
  tenant: Tenant;
  tokens: Record<Role, string>;
  instanceId: string;
  rootVolumeId: string;
  dataVolumeId: string;
  snapshotId: string;
  storageDir: string;
  /** An instance on the simulator agent, which can run instances (qemu-img cannot). */
  simInstanceId: string;
  /** A COMPLETED disk-only recovery point of that instance. */
  simPointId: string;
}

const unique = () => randomBytes(4).toString('hex');
const nothing: Check = () => undefined;
const ids = (connection: Connection) => connection.edges.map((e) => e.node.id);

/** A read: succeeds with `check`, and can change nothing either way. */
function read<T extends object>(
  query: string,
  check: (data: T, f: Fixture, role: Role) => void,
  variables?: (f: Fixture) => Record<string, unknown>,
) {
  return async (f: Fixture, role: Role): Promise<Outcome> => {
    const response = await graphql<T>(f.stack.url, f.tokens[role], query, variables?.(f) ?? {});
    return { response, succeeded: () => check(response.data!, f, role), unchanged: nothing };
  };
}

/** The admin's view of the tenant: what a refused mutation must leave as it was. */
async function tenantState(f: Fixture) {
  const data = await mustQuery<Record<string, unknown>>(
    f.stack.url,
    f.stack.adminToken,
    `query($env: ID!, $org: ID!) {
      instances(filter: { environmentId: $env }) { totalCount }
      volumes(filter: { environmentId: $env }) { totalCount edges { node { id state } } }
      snapshots(filter: { environmentId: $env }) { totalCount edges { node { id state } } }
      organizations { totalCount }
      org: node(id: $org) { id }
    }`,
    { env: f.tenant.environmentId, org: f.tenant.organizationId },
  );
  const { environments } = await mustQuery<{ environments: { totalCount: number } }>(
    f.stack.url,
    f.tenant.tokens.READ_ONLY,
    `{ environments { totalCount } }`,
  );
  return {
    ...data,
    environments: environments.totalCount,
    rootTags: await diskSnapshotTags(f.storageDir, f.rootVolumeId),
    dataTags: await diskSnapshotTags(f.storageDir, f.dataVolumeId),
  };
}

interface MutationResult {
  response: GraphQLResponse<object>;
  succeeded: Check;
  unchanged?: Check;
}

/** A mutation: the state is taken before it runs, so a refusal can be checked to have changed nothing. */
function mutation(
  run: (f: Fixture, token: string) => Promise<MutationResult>,
  prepare?: (f: Fixture) => Promise<void>,
) {
  return async (f: Fixture, role: Role): Promise<Outcome> => {
    await prepare?.(f);
    const before = await tenantState(f);
    const { response, succeeded, unchanged } = await run(f, f.tokens[role]);
    return {
      response,
      succeeded,
      unchanged: async () => {
        expect(await tenantState(f)).toEqual(before);
        await unchanged?.();
      },
    };
  };
}

async function createUserAs(f: Fixture, token: string, role: string): Promise<MutationResult> {
  const email = `${role.toLowerCase()}-${unique()}@example.test`;
  const response = await graphql<{ createUser: { user: { id: string; email: string; role: string } } }>(
    f.stack.url,
    token,
    `
      mutation ($input: CreateUserInput!) {
        createUser(input: $input) {
          user {
            id
            email
            role
          }
        }
      }
    `,
    { input: { organizationId: f.tenant.organizationId, email, role } },
  );
  return {
    response,
    succeeded: () => {
      expect(response.data!.createUser.user).toEqual({ id: expect.any(String) as unknown, email, role });
    },
    unchanged: async () => {
      // Emails are unique: had the refused call made the user, the administrator could not make it now.
      await mustQuery(
        f.stack.url,
        f.stack.adminToken,
        `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`,
        { input: { organizationId: f.tenant.organizationId, email, role: 'READ_ONLY' } },
      );
    },
  };
}

// ---- The operations on templates, deployments, clones, restores and destruction (added with them). ----

/** Waits until a resource answers `state` (null: gone); an ERROR nobody waits for fails at once. */
async function waitFor(f: Fixture, field: 'instance' | 'template' | 'volume', id: string, state: string | null) {
  await eventually(
    async () => {
      const data = await mustQuery<Record<string, { state: string } | null>>(
        f.stack.url,
        f.stack.adminToken,
        `query($id: ID!) { ${field}(id: $id) { state } }`,
        { id },
      );
      const found = data[field];
      if (state === null) return found === null;
      if (found?.state === 'ERROR' && state !== 'ERROR') throw new Error(`${field} ${id} is ERROR`);
      return found?.state === state;
    },
    30000,
    `${field} ${id} to be ${state ?? 'gone'}`,
  );
}

/** A READY private template of the tenant, made from the fixture snapshot. */
async function makeTemplate(f: Fixture): Promise<string> {
  const { createTemplateFromSnapshot } = await mustQuery<{ createTemplateFromSnapshot: { template: { id: string } } }>(
    f.stack.url,
    f.tenant.tokens.MEMBER,
    `mutation($input: CreateTemplateFromSnapshotInput!) { createTemplateFromSnapshot(input: $input) { template { id } } }`,
    { input: { snapshotId: f.snapshotId, name: `tpl-${unique()}` } },
  );
  await waitFor(f, 'template', createTemplateFromSnapshot.template.id, 'READY');
  return createTemplateFromSnapshot.template.id;
}

/** The tenant's template that reads and deployments use (made once, when first needed). */
let tenantTemplateId: string | null = null;
async function tenantTemplate(f: Fixture): Promise<string> {
  tenantTemplateId ??= await makeTemplate(f);
  return tenantTemplateId;
}

/** Every template the platform sees: what a refused template operation must leave as it was. */
async function allTemplates(f: Fixture) {
  const { templates } = await mustQuery<{ templates: { totalCount: number; edges: Array<{ node: object }> } }>(
    f.stack.url,
    f.stack.adminToken,
    `{ templates(first: 100) { totalCount edges { node { id state } } } }`,
  );
  return templates;
}

/** An environment of the caller's own organization: the tenant's, or one made once for support and platform staff. */
const ownEnvironments = new Map<Role, string>();
async function ownEnvironment(f: Fixture, role: Role): Promise<string> {
  if (role === 'READ_ONLY' || role === 'MEMBER' || role === 'ORG_ADMIN') return f.tenant.environmentId;
  const known = ownEnvironments.get(role);
  if (known) return known;
  const { viewer } = await mustQuery<{ viewer: { organization: { id: string } } }>(
    f.stack.url,
    f.tokens[role],
    `{ viewer { organization { id } } }`,
  );
  const { createEnvironment } = await mustQuery<{ createEnvironment: { environment: { id: string } } }>(
    f.stack.url,
    f.stack.adminToken,
    `mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { environment { id } } }`,
    { input: { name: `own-${unique()}`, organizationId: viewer.organization.id } },
  );
  ownEnvironments.set(role, createEnvironment.environment.id);
  return createEnvironment.environment.id;
}

/** createInstanceFromSnapshot of the fixture snapshot into `environmentId`; the clone is STOPPED when it succeeds. */
async function cloneInto(f: Fixture, token: string, environmentId: string): Promise<MutationResult> {
  const response = await graphql<{
    createInstanceFromSnapshot: { instance: { id: string; state: string; environment: { id: string } } };
  }>(
    f.stack.url,
    token,
    `
      mutation ($input: CreateInstanceFromSnapshotInput!) {
        createInstanceFromSnapshot(input: $input) {
          instance {
            id
            state
            environment {
              id
            }
          }
          job {
            id
          }
        }
      }
    `,
    { input: { snapshotId: f.snapshotId, environmentId, name: `clone-${unique()}` } },
  );
  return {
    response,
    succeeded: async () => {
      const { instance } = response.data!.createInstanceFromSnapshot;
      expect(instance).toMatchObject({ state: 'CREATING', environment: { id: environmentId } });
      await waitFor(f, 'instance', instance.id, 'STOPPED');
      // Across organizations (support and platform staff into their own), the clone is recorded twice: in the
      // clone's organization with a reference only, and in the tenant's, which learns who cloned its snapshot.
      const { events } = await mustQuery<{
        events: { edges: Array<{ node: { actorUserId: string; details: Record<string, unknown> } }> };
      }>(
        f.stack.url,
        f.stack.adminToken,
        `query($id: ID!) { events(filter: { resourceId: $id, type: INSTANCE_CLONED_ACROSS_ORGANIZATIONS }) { edges { node { actorUserId details } } } }`,
        { id: instance.id },
      );
      const tenantEvents = await mustQuery<{
        events: { edges: Array<{ node: { id: string; actorUserId: string; details: Record<string, unknown> } }> };
      }>(
        f.stack.url,
        f.tenant.tokens.READ_ONLY,
        `query($id: ID!) { events(filter: { resourceId: $id, type: SNAPSHOT_CLONED_BY_SUPPORT }, first: 100) { edges { node { id actorUserId details } } } }`,
        { id: f.snapshotId },
      );
      const told = tenantEvents.events.edges.filter((e) => e.node.details['cloneInstanceId'] === instance.id);
      if (environmentId === f.tenant.environmentId) {
        expect(events.edges).toEqual([]);
        expect(told).toEqual([]);
      } else {
        expect(told).toHaveLength(1);
        expect(events.edges.map((e) => e.node.details)).toEqual([{ sourceEventId: told[0].node.id }]);
        expect(told[0].node.details).toMatchObject({ snapshotId: f.snapshotId, cloneInstanceId: instance.id });
        expect(told[0].node.actorUserId).toBe(events.edges[0].node.actorUserId);
      }
    },
  };
}

/** The template the current deleteTemplate cell deletes, and the instance the current destroyInstance cell destroys. */
let doomedTemplate: string | null = null;
let destroyable: string | null = null;

/** The token of another organization's ORG_ADMIN (made once), put in place of the tenant's own ORG_ADMIN. */
let foreignAdmin: string | null = null;

/** The COMPLETED snapshot of the ROOT volume that the current deleteSnapshot cell deletes (one per cell). */
let deletable: string | null = null;

// ---- Running instances and recovery points (an instance on the simulator agent, which runs them). ----

async function simState(f: Fixture): Promise<string> {
  const { instance } = await mustQuery<{ instance: { state: string } }>(
    f.stack.url,
    f.stack.adminToken,
    `query($id: ID!) { instance(id: $id) { state } }`,
    { id: f.simInstanceId },
  );
  return instance.state;
}

/** Brings the simulator instance to RUNNING or STOPPED (as the tenant's member), and waits for it. */
async function ensureSim(f: Fixture, state: 'RUNNING' | 'STOPPED'): Promise<void> {
  if ((await simState(f)) !== state) {
    const mutation = state === 'RUNNING' ? 'startInstance' : 'stopInstance';
    await mustQuery(
      f.stack.url,
      f.tenant.tokens.MEMBER,
      `mutation($id: ID!) { ${mutation}(input: { instanceId: $id }) { job { id } } }`,
      { id: f.simInstanceId },
    );
  }
  await waitFor(f, 'instance', f.simInstanceId, state);
}

/** Waits until the simulator instance is RUNNING or STOPPED with every volume READY. */
async function ensureSimSettled(f: Fixture): Promise<void> {
  await eventually(
    async () => {
      const { instance } = (await simSnapshot(f)) as { instance: { state: string; volumes: Array<{ state: string }> } };
      return ['RUNNING', 'STOPPED'].includes(instance.state) && instance.volumes.every((v) => v.state === 'READY');
    },
    30000,
    'the simulator instance to settle',
  );
}

/** A COMPLETED recovery point of the simulator instance, made by the tenant's member. */
async function makePoint(f: Fixture): Promise<string> {
  const { createInstanceSnapshot } = await mustQuery<{ createInstanceSnapshot: { instanceSnapshot: { id: string } } }>(
    f.stack.url,
    f.tenant.tokens.MEMBER,
    `mutation($id: ID!) { createInstanceSnapshot(input: { instanceId: $id }) { instanceSnapshot { id } } }`,
    { id: f.simInstanceId },
  );
  await waitForPoint(f, createInstanceSnapshot.instanceSnapshot.id, 'COMPLETED');
  return createInstanceSnapshot.instanceSnapshot.id;
}

async function pointState(f: Fixture, id: string): Promise<string | null> {
  const { node } = await mustQuery<{ node: { state: string } | null }>(
    f.stack.url,
    f.stack.adminToken,
    `query($id: ID!) { node(id: $id) { ... on InstanceSnapshot { state } } }`,
    { id },
  );
  return node?.state ?? null;
}

async function waitForPoint(f: Fixture, id: string, state: string | null): Promise<void> {
  await eventually(
    async () => {
      const found = await pointState(f, id);
      if (found === 'ERROR' && state !== 'ERROR') throw new Error(`recovery point ${id} is ERROR`);
      return found === state;
    },
    30000,
    `recovery point ${id} to be ${state ?? 'gone'}`,
  );
}

/** The simulator instance's recovery points and volume states, as the administrator sees them. */
async function simSnapshot(f: Fixture) {
  const data = await mustQuery<Record<string, unknown>>(
    f.stack.url,
    f.stack.adminToken,
    `query($id: ID!) {
      instance(id: $id) { state volumes { id state } }
      instanceSnapshots(filter: { instanceId: $id }, first: 100) { totalCount edges { node { id state } } }
    }`,
    { id: f.simInstanceId },
  );
  return data;
}

/** startInstance or stopInstance of the simulator instance, from the state that allows it. */
function power(mutationName: 'startInstance' | 'stopInstance') {
  const from = mutationName === 'startInstance' ? 'STOPPED' : 'RUNNING';
  const to = mutationName === 'startInstance' ? 'RUNNING' : 'STOPPED';
  const passing = mutationName === 'startInstance' ? 'STARTING' : 'STOPPING';
  return mutation(
    async (f, token) => {
      const before = await simSnapshot(f);
      const response = await graphql<Record<string, { instance: { id: string; state: string } }>>(
        f.stack.url,
        token,
        `mutation($id: ID!) { ${mutationName}(input: { instanceId: $id }) { instance { id state } job { id } } }`,
        { id: f.simInstanceId },
      );
      return {
        response,
        succeeded: async () => {
          expect(response.data![mutationName].instance).toEqual({ id: f.simInstanceId, state: passing });
          await waitFor(f, 'instance', f.simInstanceId, to);
        },
        unchanged: async () => expect(await simSnapshot(f)).toEqual(before),
      };
    },
    async (f) => {
      await withSimulator(f);
      await ensureSim(f, from);
    },
  );
}

/** The instance on the simulator agent that the start, stop and recovery point cells use. */
async function simulatorInstance(f: Fixture): Promise<string> {
  const created = await createInstance(f.stack, f.tenant.tokens.MEMBER, {
    environmentId: f.tenant.environmentId,
    name: 'matrix-sim',
    dataDiskSizesGiB: [1],
    hostId: await f.stack.hostId('kvm-sim'),
  });
  return created.id;
}

/**
 * Starts the simulator agent and makes its instance and recovery point, once, when the first of these cells
 * runs: placement prefers the least loaded host, so an earlier start would send the other cells' deployments
 * and clones (which need qemu-img's files) to the simulator.
 */
let simulatorReady: Promise<void> | null = null;
function withSimulator(f: Fixture): Promise<void> {
  simulatorReady ??= (async () => {
    await f.stack.startAgent('kvm-sim', { AGENT_DRIVER: 'simulator' });
    f.simInstanceId = await simulatorInstance(f);
    f.simPointId = await makePoint(f);
  })();
  return simulatorReady;
}

/** The recovery point the current deleteInstanceSnapshot cell deletes. */
let deletablePoint: string | null = null;

// ---- Users and tokens (issue 9): listing and revoking tokens, changing and deleting users. ----

/** The user the current user/token cell acts on (made fresh for each cell, with a working token). */
let target: { userId: string; token: string } | null = null;

/** A cell's preparation: a new user of `role` in the tenant, with a token, becomes the target. */
const freshTarget = (role: string) => async (f: Fixture) => {
  target = await createUserWithToken(f.stack, f.tenant.organizationId, role);
};

async function viewerId(f: Fixture, token: string): Promise<string> {
  const { viewer } = await mustQuery<{ viewer: { user: { id: string } } }>(
    f.stack.url,
    token,
    `{ viewer { user { id } } }`,
  );
  return viewer.user.id;
}

/** What the target signs in as now: its role, or null when its token no longer authenticates. */
async function targetRole(f: Fixture): Promise<string | null> {
  const response = await graphql<{ viewer: { user: { role: string } } }>(
    f.stack.url,
    target!.token,
    `
      {
        viewer {
          user {
            role
          }
        }
      }
    `,
  );
  return response.data?.viewer.user.role ?? null;
}

async function tokenIdOf(f: Fixture, userId: string): Promise<string> {
  const { apiTokens } = await mustQuery<{ apiTokens: { edges: Array<{ node: { id: string; userId: string } }> } }>(
    f.stack.url,
    f.stack.adminToken,
    `{ apiTokens(first: 100) { edges { node { id userId } } } }`,
  );
  return apiTokens.edges.find((e) => e.node.userId === userId)!.node.id;
}

/** revokeApiToken of the target's token: it stops working when the call succeeds. */
const revokeTargetToken = (role: string) =>
  mutation(async (f, token) => {
    const response = await graphql<{ revokeApiToken: { apiToken: { id: string; revokedAt: string | null } } }>(
      f.stack.url,
      token,
      `
        mutation ($id: ID!) {
          revokeApiToken(input: { apiTokenId: $id }) {
            apiToken {
              id
              revokedAt
            }
          }
        }
      `,
      { id: await tokenIdOf(f, target!.userId) },
    );
    return {
      response,
      succeeded: async () => {
        expect(response.data!.revokeApiToken.apiToken.revokedAt).not.toBeNull();
        expect(await targetRole(f)).toBeNull();
      },
      unchanged: async () => expect(await targetRole(f)).toBe(role),
    };
  }, freshTarget(role));

/** updateUser of a fresh target of `role`: `changes` applied, seen by its next sign-in. */
const updateTarget = (role: string, changes: { role?: string; disabled?: boolean }) =>
  mutation(async (f, token) => {
    const response = await graphql<{ updateUser: { user: { id: string; role: string; disabled: boolean } } }>(
      f.stack.url,
      token,
      `
        mutation ($input: UpdateUserInput!) {
          updateUser(input: $input) {
            user {
              id
              role
              disabled
            }
          }
        }
      `,
      { input: { userId: target!.userId, ...changes } },
    );
    return {
      response,
      succeeded: async () => {
        expect(response.data!.updateUser.user).toEqual({
          id: target!.userId,
          role: changes.role ?? role,
          disabled: changes.disabled ?? false,
        });
        expect(await targetRole(f)).toBe(changes.disabled ? null : (changes.role ?? role));
      },
      unchanged: async () => expect(await targetRole(f)).toBe(role),
    };
  }, freshTarget(role));

/** deleteUser of a fresh target of `role`: its token stops working when the call succeeds. */
const deleteTarget = (role: string) =>
  mutation(async (f, token) => {
    const response = await graphql<{ deleteUser: { user: { id: string } } }>(
      f.stack.url,
      token,
      `
        mutation ($id: ID!) {
          deleteUser(input: { userId: $id }) {
            user {
              id
            }
          }
        }
      `,
      { id: target!.userId },
    );
    return {
      response,
      succeeded: async () => {
        expect(response.data!.deleteUser.user.id).toBe(target!.userId);
        expect(await targetRole(f)).toBeNull();
      },
      unchanged: async () => expect(await targetRole(f)).toBe(role),
    };
  }, freshTarget(role));

/**
 * A call that puts one resource DESTROYING (`<name>(input: { <idField>: $id }) { <field> { id state } job { id } }`):
 * the resource answers DESTROYING, then `gone` checks it went; `kept` checks a refused call left it.
 */
async function destroying(
  f: Fixture,
  token: string,
  call: { name: string; idField: string; field: string; id: string },
  gone: Check,
  kept: Check,
): Promise<MutationResult> {
  const { name, idField, field, id } = call;
  const response = await graphql<Record<string, Record<string, { id: string; state: string }>>>(
    f.stack.url,
    token,
    `mutation ($id: ID!) { ${name}(input: { ${idField}: $id }) { ${field} { id state } job { id } } }`,
    { id },
  );
  return {
    response,
    succeeded: async () => {
      expect(response.data![name][field]).toEqual({ id, state: 'DESTROYING' });
      await gone();
    },
    unchanged: kept,
  };
}

/** deleteTemplate of the template `prepare` made (doomedTemplate): gone with its file, or READY with it. */
const deleteTemplateCell = (prepare: (f: Fixture) => Promise<void>) =>
  mutation((f, token) => {
    const id = doomedTemplate!;
    return destroying(
      f,
      token,
      { name: 'deleteTemplate', idField: 'templateId', field: 'template', id },
      async () => {
        await waitFor(f, 'template', id, null);
        expect(await fileExists(templateFile(f.stack.secondaryDir, id))).toBe(false);
      },
      async () => {
        await waitFor(f, 'template', id, 'READY');
        expect(await fileExists(templateFile(f.stack.secondaryDir, id))).toBe(true);
      },
    );
  }, prepare);

/** destroyInstance of a STOPPED instance: gone when the call succeeds, still STOPPED when it is refused. */
function destroyAs(f: Fixture, token: string, id: string): Promise<MutationResult> {
  return destroying(
    f,
    token,
    { name: 'destroyInstance', idField: 'instanceId', field: 'instance', id },
    () => waitFor(f, 'instance', id, null),
    () => waitFor(f, 'instance', id, 'STOPPED'),
  );
}

/** A public address literal (no DNS): accepted without WEBHOOK_ALLOW_PRIVATE_ADDRESSES, and it wants a type nothing
 * here records, so no delivery is ever attempted. */
const WEBHOOK_URL = 'https://93.184.215.14/snapdeck-hook';
const WEBHOOK_INPUT = { url: WEBHOOK_URL, events: ['backup.failed'] };

async function tenantWebhookIds(f: Fixture): Promise<string[]> {
  const { webhooks } = await mustQuery<{ webhooks: Connection }>(
    f.stack.url,
    f.tenant.tokens.ORG_ADMIN,
    '{ webhooks(first: 100) { totalCount edges { node { id } } } }',
  );
  return ids(webhooks);
}

/** A webhook of the tenant, made by its ORG_ADMIN, for the cells that act on one. */
async function tenantWebhook(f: Fixture): Promise<string> {
  const { createWebhook } = await mustQuery<{ createWebhook: { webhook: { id: string } } }>(
    f.stack.url,
    f.tenant.tokens.ORG_ADMIN,
    'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }',
    { input: WEBHOOK_INPUT },
  );
  return createWebhook.webhook.id;
}

let deliveriesWebhookId: string | undefined;

async function tenantNotificationSettings(f: Fixture) {
  const { viewer } = await mustQuery<{ viewer: { organization: { notificationSettings: unknown } } }>(
    f.stack.url,
    f.tenant.tokens.READ_ONLY,
    '{ viewer { organization { notificationSettings { emails events } } } }',
  );
  return viewer.organization.notificationSettings;
}

// ---- Snapshot policies and protection (added with them). Policies made here are disabled: none may fire. ----

/** A disabled policy on the DATA volume, made by the tenant's MEMBER. */
async function makePolicy(f: Fixture): Promise<string> {
  const { createSnapshotPolicy } = await mustQuery<{ createSnapshotPolicy: { snapshotPolicy: { id: string } } }>(
    f.stack.url,
    f.tenant.tokens.MEMBER,
    `mutation($input: CreateSnapshotPolicyInput!) { createSnapshotPolicy(input: $input) { snapshotPolicy { id } } }`,
    { input: { volumeId: f.dataVolumeId, schedule: '@daily', timezone: 'Europe/Madrid', keep: 3, enabled: false } },
  );
  return createSnapshotPolicy.snapshotPolicy.id;
}

/** A policy as the platform administrator reads it (null: gone). */
async function policyAsAdmin(f: Fixture, id: string) {
  const { node } = await mustQuery<{ node: { id: string; keep: number } | null }>(
    f.stack.url,
    f.stack.adminToken,
    `query($id: ID!) { node(id: $id) { ... on SnapshotPolicy { id keep } } }`,
    { id },
  );
  return node;
}

async function policyCount(f: Fixture): Promise<number> {
  const { snapshotPolicies } = await mustQuery<{ snapshotPolicies: { totalCount: number } }>(
    f.stack.url,
    f.stack.adminToken,
    `query($v: ID!) { snapshotPolicies(filter: { volumeId: $v }) { totalCount } }`,
    { v: f.dataVolumeId },
  );
  return snapshotPolicies.totalCount;
}

async function protectedAsAdmin(f: Fixture, id: string): Promise<boolean> {
  const { snapshot } = await mustQuery<{ snapshot: { protected: boolean } }>(
    f.stack.url,
    f.stack.adminToken,
    `query($id: ID!) { snapshot(id: $id) { protected } }`,
    { id },
  );
  return snapshot.protected;
}

/** The policy reads list, and the policies the update and delete cells act on (one per cell). */
let listedPolicy: string | null = null;
let updatablePolicy: string | null = null;
let deletablePolicy: string | null = null;

const OPERATIONS = {
  viewer: read<{ viewer: { user: { id: string; role: string }; organization: { id: string } } }>(
    `{ viewer { user { id role } organization { id } } }`,
    (data, _f, role) => {
      expect(data.viewer.user.role).toBe(role);
      expect(data.viewer.organization.id).toEqual(expect.any(String));
    },
  ),
  environments: read<{ environments: Connection }>(
    `{ environments(first: 100) { totalCount edges { node { id } } } }`,
    (data, f) => expect(ids(data.environments)).toContain(f.tenant.environmentId),
  ),
  instances: read<{ instances: Connection }>(
    `{ instances(first: 100) { totalCount edges { node { id } } } }`,
    (data, f) => expect(ids(data.instances)).toContain(f.instanceId),
  ),
  volumes: read<{ volumes: Connection }>(`{ volumes(first: 100) { totalCount edges { node { id } } } }`, (data, f) =>
    expect(ids(data.volumes)).toEqual(expect.arrayContaining([f.rootVolumeId, f.dataVolumeId])),
  ),
  snapshots: read<{ snapshots: Connection }>(
    `{ snapshots(first: 100) { totalCount edges { node { id } } } }`,
    (data, f) => expect(ids(data.snapshots)).toContain(f.snapshotId),
  ),
  'snapshot(id)': read<{ snapshot: { id: string; state: string } | null }>(
    `query($id: ID!) { snapshot(id: $id) { id state } }`,
    (data, f) => expect(data.snapshot).toEqual({ id: f.snapshotId, state: 'COMPLETED' }),
    (f) => ({ id: f.snapshotId }),
  ),
  'instance(id)': read<{ instance: { id: string; volumes: Array<{ id: string }> } }>(
    `query($id: ID!) { instance(id: $id) { id volumes { id } } }`,
    (data, f) => expect(data.instance.volumes.map((v) => v.id).sort()).toEqual([f.rootVolumeId, f.dataVolumeId].sort()),
    (f) => ({ id: f.instanceId }),
  ),
  hosts: read<{ hosts: { edges: Array<{ node: { id: string; name: string; state: string } }> } }>(
    `{ hosts(first: 100) { totalCount edges { node { id name state } } } }`,
    (data) => expect(data.hosts.edges.map((e) => e.node.name)).toContain('kvm-a'),
  ),
  organizations: read<{ organizations: Connection }>(
    `{ organizations(first: 100) { totalCount edges { node { id } } } }`,
    (data, f) => expect(ids(data.organizations)).toContain(f.tenant.organizationId),
  ),
  createOrganization: mutation(async (f, token) => {
    const name = `org-${unique()}`;
    const response = await graphql<{ createOrganization: { organization: { id: string; name: string } } }>(
      f.stack.url,
      token,
      `
        mutation ($name: String!) {
          createOrganization(input: { name: $name }) {
            organization {
              id
              name
            }
          }
        }
      `,
      { name },
    );
    return {
      response,
      succeeded: () =>
        expect(response.data!.createOrganization.organization).toEqual({ id: expect.any(String) as unknown, name }),
      unchanged: async () => {
        // Organization names are unique: had the refused call made it, this would be CONFLICT.
        await mustQuery(
          f.stack.url,
          f.stack.adminToken,
          `mutation($name: String!) { createOrganization(input: { name: $name }) { organization { id } } }`,
          { name },
        );
      },
    };
  }),
  setOrganizationLimits: mutation(async (f, token) => {
    // backupGiB: a limit nothing in this matrix consumes, so changing it cannot affect another cell.
    const readLimit = async () => {
      const { node } = await mustQuery<{ node: { limits: { backupGiB: number | null } } }>(
        f.stack.url,
        f.stack.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Organization { limits { backupGiB } } } }`,
        { id: f.tenant.organizationId },
      );
      return node.limits.backupGiB;
    };
    const before = await readLimit();
    const value = 1000 + Math.floor(Math.random() * 100000);
    const response = await graphql<{
      setOrganizationLimits: { organization: { id: string; limits: { backupGiB: number | null } } };
    }>(
      f.stack.url,
      token,
      `
        mutation ($input: SetOrganizationLimitsInput!) {
          setOrganizationLimits(input: $input) {
            organization {
              id
              limits {
                backupGiB
              }
            }
          }
        }
      `,
      { input: { organizationId: f.tenant.organizationId, backupGiB: value } },
    );
    return {
      response,
      succeeded: async () => {
        expect(response.data!.setOrganizationLimits.organization).toEqual({
          id: f.tenant.organizationId,
          limits: { backupGiB: value },
        });
        expect(await readLimit()).toBe(value);
      },
      unchanged: async () => expect(await readLimit()).toBe(before),
    };
  }),
  createSnapshot: mutation(async (f, token) => {
    const response = await graphql<{
      createSnapshot: { snapshot: { id: string; state: string; volume: { id: string } } };
    }>(
      f.stack.url,
      token,
      `
        mutation ($v: ID!) {
          createSnapshot(input: { volumeId: $v, name: "by-role" }) {
            snapshot {
              id
              state
              volume {
                id
              }
            }
            job {
              id
            }
          }
        }
      `,
      { v: f.dataVolumeId },
    );
    return {
      response,
      succeeded: async () => {
        const { snapshot } = response.data!.createSnapshot;
        expect(snapshot.state).toBe('IN_PROGRESS');
        expect(snapshot.volume.id).toBe(f.dataVolumeId);
        await waitForSnapshot(f.stack, f.stack.adminToken, snapshot.id, 'COMPLETED');
        expect(await diskSnapshotTags(f.storageDir, f.dataVolumeId)).toContain(snapshot.id);
      },
    };
  }),
  deleteSnapshot: mutation(
    (f, token) => {
      const id = deletable!;
      return destroying(
        f,
        token,
        { name: 'deleteSnapshot', idField: 'snapshotId', field: 'snapshot', id },
        async () => {
          await waitForSnapshot(f.stack, f.stack.adminToken, id, null);
          expect(await diskSnapshotTags(f.storageDir, f.rootVolumeId)).not.toContain(id);
        },
        async () => {
          const { snapshot } = await mustQuery<{ snapshot: { state: string } | null }>(
            f.stack.url,
            f.stack.adminToken,
            `query($id: ID!) { snapshot(id: $id) { state } }`,
            { id },
          );
          expect(snapshot).toEqual({ state: 'COMPLETED' });
          expect(await diskSnapshotTags(f.storageDir, f.rootVolumeId)).toContain(id);
        },
      );
    },
    async (f) => {
      const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string } } }>(
        f.stack.url,
        f.tenant.tokens.MEMBER,
        `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id } } }`,
        { v: f.rootVolumeId },
      );
      await waitForSnapshot(f.stack, f.tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
      deletable = createSnapshot.snapshot.id;
    },
  ),
  createInstance: mutation(async (f, token) => {
    const name = `by-role-${unique()}`;
    const response = await graphql<{
      createInstance: { instance: { id: string; name: string; environment: { id: string } } };
    }>(
      f.stack.url,
      token,
      `
        mutation ($input: CreateInstanceInput!) {
          createInstance(input: $input) {
            instance {
              id
              name
              environment {
                id
              }
            }
            job {
              id
            }
          }
        }
      `,
      { input: { environmentId: f.tenant.environmentId, name, rootDiskSizeGiB: 1 } },
    );
    return {
      response,
      succeeded: async () => {
        const { instance } = response.data!.createInstance;
        expect(instance).toEqual({
          id: expect.any(String) as unknown,
          name,
          environment: { id: f.tenant.environmentId },
        });
        await eventually(
          async () => {
            const data = await mustQuery<{ instance: { state: string } }>(
              f.stack.url,
              f.stack.adminToken,
              `query($id: ID!) { instance(id: $id) { state } }`,
              { id: instance.id },
            );
            if (data.instance.state === 'ERROR') throw new Error('instance failed to provision');
            return data.instance.state === 'STOPPED';
          },
          20000,
          'instance to be STOPPED',
        );
      },
    };
  }),
  'createUser MEMBER': mutation((f, token) => createUserAs(f, token, 'MEMBER')),
  'createUser READ_ONLY': mutation((f, token) => createUserAs(f, token, 'READ_ONLY')),
  'createUser ORG_ADMIN': mutation((f, token) => createUserAs(f, token, 'ORG_ADMIN')),
  'createUser SUPPORT': mutation((f, token) => createUserAs(f, token, 'SUPPORT')),
  'createUser PLATFORM_ADMIN': mutation((f, token) => createUserAs(f, token, 'PLATFORM_ADMIN')),
  createApiToken: mutation(async (f, token) => {
    const response = await graphql<{ createApiToken: { token: string } }>(
      f.stack.url,
      token,
      `
        mutation ($input: CreateApiTokenInput!) {
          createApiToken(input: $input) {
            token
            apiToken {
              id
            }
          }
        }
      `,
      { input: { userId: f.tenant.userIds.READ_ONLY, name: 'by-role' } },
    );
    return {
      response,
      succeeded: async () => {
        // The new secret works, and acts as the user it was minted for.
        const { viewer } = await mustQuery<{ viewer: { user: { id: string; role: string } } }>(
          f.stack.url,
          response.data!.createApiToken.token,
          `{ viewer { user { id role } } }`,
        );
        expect(viewer.user).toEqual({ id: f.tenant.userIds.READ_ONLY, role: 'READ_ONLY' });
      },
    };
  }),
  apiTokens: async (f: Fixture, role: Role) => {
    const me = await viewerId(f, f.tokens[role]);
    return read<{ apiTokens: { edges: Array<{ node: { userId: string } }> } }>(
      `{ apiTokens(first: 100) { edges { node { id userId } } } }`,
      (data, _f, caller) => {
        const owners = data.apiTokens.edges.map((e) => e.node.userId);
        expect(owners).toContain(me);
        // Only administrators see other users' tokens.
        if (caller !== 'ORG_ADMIN' && caller !== 'PLATFORM_ADMIN') expect(new Set(owners)).toEqual(new Set([me]));
      },
    )(f, role);
  },
  'revokeApiToken own': async (f: Fixture, role: Role) => {
    // A fresh token of the caller's own user (minted by the platform administrator), which the caller revokes.
    const { createApiToken } = await mustQuery<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      f.stack.url,
      f.stack.adminToken,
      `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }`,
      { input: { userId: await viewerId(f, f.tokens[role]), name: 'own-fresh' } },
    );
    const fresh = { id: createApiToken.apiToken.id, token: createApiToken.token };
    const works = async () =>
      (
        await graphql(
          f.stack.url,
          fresh.token,
          `
            {
              viewer {
                user {
                  id
                }
              }
            }
          `,
        )
      ).errors === undefined;
    return mutation(async (_f, token) => {
      const response = await graphql<{ revokeApiToken: { apiToken: { id: string } } }>(
        f.stack.url,
        token,
        `
          mutation ($id: ID!) {
            revokeApiToken(input: { apiTokenId: $id }) {
              apiToken {
                id
              }
            }
          }
        `,
        { id: fresh.id },
      );
      return {
        response,
        succeeded: async () => expect(await works()).toBe(false),
        unchanged: async () => expect(await works()).toBe(true),
      };
    })(f, role);
  },
  'revokeApiToken of a MEMBER': revokeTargetToken('MEMBER'),
  'revokeApiToken of a peer ORG_ADMIN': revokeTargetToken('ORG_ADMIN'),
  'updateUser MEMBER role': updateTarget('MEMBER', { role: 'READ_ONLY' }),
  'updateUser MEMBER disabled': updateTarget('MEMBER', { disabled: true }),
  'updateUser MEMBER to ORG_ADMIN': updateTarget('MEMBER', { role: 'ORG_ADMIN' }),
  'updateUser MEMBER to SUPPORT': updateTarget('MEMBER', { role: 'SUPPORT' }),
  'updateUser ORG_ADMIN disabled': updateTarget('ORG_ADMIN', { disabled: true }),
  'deleteUser MEMBER': deleteTarget('MEMBER'),
  'deleteUser ORG_ADMIN': deleteTarget('ORG_ADMIN'),
  'createApiToken for a peer ORG_ADMIN': mutation(async (f, token) => {
    const response = await graphql<{ createApiToken: { token: string } }>(
      f.stack.url,
      token,
      `
        mutation ($input: CreateApiTokenInput!) {
          createApiToken(input: $input) {
            token
          }
        }
      `,
      { input: { userId: target!.userId, name: 'as-peer' } },
    );
    return {
      response,
      succeeded: async () => {
        const { viewer } = await mustQuery<{ viewer: { user: { id: string } } }>(
          f.stack.url,
          response.data!.createApiToken.token,
          `{ viewer { user { id } } }`,
        );
        expect(viewer.user.id).toBe(target!.userId);
      },
      unchanged: async () => {
        // The target still has only the token it was made with (lists are newest first).
        const { apiTokens } = await mustQuery<{ apiTokens: { edges: Array<{ node: { userId: string } }> } }>(
          f.stack.url,
          f.stack.adminToken,
          `{ apiTokens(first: 100) { edges { node { userId } } } }`,
        );
        expect(apiTokens.edges.filter((e) => e.node.userId === target!.userId)).toHaveLength(1);
      },
    };
  }, freshTarget('ORG_ADMIN')),
  createEnvironment: mutation(async (f, token) => {
    const name = `env-${unique()}`;
    const response = await graphql<{ createEnvironment: { environment: { id: string; name: string } } }>(
      f.stack.url,
      token,
      `
        mutation ($input: CreateEnvironmentInput!) {
          createEnvironment(input: $input) {
            environment {
              id
              name
            }
          }
        }
      `,
      { input: { name, organizationId: f.tenant.organizationId } },
    );
    return {
      response,
      succeeded: async () => {
        const { environment } = response.data!.createEnvironment;
        expect(environment.name).toBe(name);
        const { environments } = await mustQuery<{ environments: Connection }>(
          f.stack.url,
          f.tenant.tokens.READ_ONLY,
          `{ environments(first: 100) { totalCount edges { node { id } } } }`,
        );
        expect(ids(environments)).toContain(environment.id);
      },
    };
  }),
  templates: async (f: Fixture, role: Role) => {
    const id = await tenantTemplate(f);
    return read<{ templates: Connection }>(`{ templates(first: 100) { totalCount edges { node { id } } } }`, (data) =>
      expect(ids(data.templates)).toContain(id),
    )(f, role);
  },
  'template(id)': async (f: Fixture, role: Role) => {
    const id = await tenantTemplate(f);
    return read<{ template: { id: string; state: string } | null }>(
      `query($id: ID!) { template(id: $id) { id state } }`,
      (data) => expect(data.template).toEqual({ id, state: 'READY' }),
      () => ({ id }),
    )(f, role);
  },
  events: read<{ events: { edges: Array<{ node: { type: string; resourceId: string } }> } }>(
    `query($id: ID!) { events(filter: { resourceId: $id }) { edges { node { type resourceId } } } }`,
    (data, f) =>
      expect(data.events.edges.map((e) => e.node)).toContainEqual({
        type: 'SNAPSHOT_COMPLETED',
        resourceId: f.snapshotId,
      }),
    (f) => ({ id: f.snapshotId }),
  ),
  revertVolumeToSnapshot: mutation(async (f, token) => {
    const response = await graphql<{ revertVolumeToSnapshot: { volume: { id: string; state: string } } }>(
      f.stack.url,
      token,
      `
        mutation ($id: ID!) {
          revertVolumeToSnapshot(input: { snapshotId: $id }) {
            volume {
              id
              state
            }
            job {
              id
            }
          }
        }
      `,
      { id: f.snapshotId },
    );
    return {
      response,
      succeeded: async () => {
        expect(response.data!.revertVolumeToSnapshot.volume).toEqual({ id: f.rootVolumeId, state: 'REVERTING' });
        await waitFor(f, 'volume', f.rootVolumeId, 'READY');
        expect(await diskSnapshotTags(f.storageDir, f.rootVolumeId)).toContain(f.snapshotId);
      },
    };
  }),
  createTemplateFromSnapshot: mutation(async (f, token) => {
    const before = await allTemplates(f);
    const response = await graphql<{ createTemplateFromSnapshot: { template: { id: string; state: string } } }>(
      f.stack.url,
      token,
      `
        mutation ($input: CreateTemplateFromSnapshotInput!) {
          createTemplateFromSnapshot(input: $input) {
            template {
              id
              state
            }
            job {
              id
            }
          }
        }
      `,
      { input: { snapshotId: f.snapshotId, name: `by-role-${unique()}` } },
    );
    return {
      response,
      succeeded: async () => {
        const { template } = response.data!.createTemplateFromSnapshot;
        expect(template.state).toBe('CREATING');
        await waitFor(f, 'template', template.id, 'READY');
        expect(await fileExists(templateFile(f.stack.secondaryDir, template.id))).toBe(true);
      },
      unchanged: async () => expect(await allTemplates(f)).toEqual(before),
    };
  }),
  registerTemplate: mutation(async (f, token) => {
    const path = `imports/by-role-${unique()}.qcow2`;
    await mkdir(join(f.stack.secondaryDir, 'imports'), { recursive: true });
    await createImage(join(f.stack.secondaryDir, path), '1G');
    const before = await allTemplates(f);
    const response = await graphql<{ registerTemplate: { template: { id: string; state: string } } }>(
      f.stack.url,
      token,
      `
        mutation ($input: RegisterTemplateInput!) {
          registerTemplate(input: $input) {
            template {
              id
              state
            }
            job {
              id
            }
          }
        }
      `,
      { input: { name: `by-role-${unique()}`, path, public: true } },
    );
    return {
      response,
      succeeded: async () => {
        const { template } = response.data!.registerTemplate;
        expect(template.state).toBe('CREATING');
        await waitFor(f, 'template', template.id, 'READY');
        expect(await fileExists(templateFile(f.stack.secondaryDir, template.id))).toBe(true);
      },
      unchanged: async () => expect(await allTemplates(f)).toEqual(before),
    };
  }),
  deleteTemplate: deleteTemplateCell(async (f) => {
    doomedTemplate = await makeTemplate(f);
  }),
  deployInstance: mutation(
    async (f, token) => {
      const response = await graphql<{ deployInstance: { instance: { id: string; state: string } } }>(
        f.stack.url,
        token,
        `
          mutation ($input: DeployInstanceInput!) {
            deployInstance(input: $input) {
              instance {
                id
                state
              }
              job {
                id
              }
            }
          }
        `,
        { input: { templateId: tenantTemplateId, environmentId: f.tenant.environmentId, name: `dep-${unique()}` } },
      );
      return {
        response,
        succeeded: async () => {
          expect(response.data!.deployInstance.instance.state).toBe('CREATING');
          await waitFor(f, 'instance', response.data!.deployInstance.instance.id, 'STOPPED');
        },
      };
    },
    async (f) => {
      await tenantTemplate(f);
    },
  ),
  'deleteTemplate public': deleteTemplateCell(async (f) => {
    // A public template registered by the platform administrator, which every role can read.
    const path = `imports/public-${unique()}.qcow2`;
    await mkdir(join(f.stack.secondaryDir, 'imports'), { recursive: true });
    await createImage(join(f.stack.secondaryDir, path), '1G');
    const { registerTemplate } = await mustQuery<{ registerTemplate: { template: { id: string } } }>(
      f.stack.url,
      f.stack.adminToken,
      `mutation($input: RegisterTemplateInput!) { registerTemplate(input: $input) { template { id } } }`,
      { input: { name: `public-${unique()}`, path, public: true } },
    );
    await waitFor(f, 'template', registerTemplate.template.id, 'READY');
    doomedTemplate = registerTemplate.template.id;
  }),
  createInstanceFromSnapshot: mutation((f, token) => cloneInto(f, token, f.tenant.environmentId)),
  'createInstanceFromSnapshot into own organization': async (f: Fixture, role: Role) => {
    const environmentId = await ownEnvironment(f, role);
    return mutation((f, token) => cloneInto(f, token, environmentId))(f, role);
  },
  createVolumeFromSnapshot: mutation(async (f, token) => {
    const response = await graphql<{
      createVolumeFromSnapshot: { volume: { id: string; state: string; type: string } };
    }>(
      f.stack.url,
      token,
      `
        mutation ($input: CreateVolumeFromSnapshotInput!) {
          createVolumeFromSnapshot(input: $input) {
            volume {
              id
              state
              type
            }
            job {
              id
            }
          }
        }
      `,
      { input: { snapshotId: f.snapshotId, name: `restored-${unique()}` } },
    );
    return {
      response,
      succeeded: async () => {
        const { volume } = response.data!.createVolumeFromSnapshot;
        expect(volume).toMatchObject({ state: 'CREATING', type: 'DATADISK' });
        await waitFor(f, 'volume', volume.id, 'READY');
      },
    };
  }),
  destroyInstance: mutation(
    (f, token) => destroyAs(f, token, destroyable!),
    async (f) => {
      destroyable = (
        await createInstance(f.stack, f.tenant.tokens.MEMBER, {
          environmentId: f.tenant.environmentId,
          name: `doomed-${unique()}`,
        })
      ).id;
    },
  ),
  // Support keeps MEMBER's writes in its own organization: it holds its clones and removes them when done.
  'destroyInstance in own organization': async (f: Fixture, role: Role) => {
    const environmentId = await ownEnvironment(f, role);
    const { createInstance: created } = await mustQuery<{ createInstance: { instance: { id: string } } }>(
      f.stack.url,
      f.stack.adminToken,
      `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } } }`,
      { input: { environmentId, name: `own-${unique()}`, rootDiskSizeGiB: 1 } },
    );
    const id = created.instance.id;
    await waitFor(f, 'instance', id, 'STOPPED');
    return mutation((f, token) => destroyAs(f, token, id))(f, role);
  },
  instanceSnapshots: async (f: Fixture, role: Role) => {
    await withSimulator(f);
    return read<{ instanceSnapshots: Connection }>(
      `query($id: ID!) { instanceSnapshots(filter: { instanceId: $id }, first: 100) { totalCount edges { node { id } } } }`,
      (data) => expect(ids(data.instanceSnapshots)).toContain(f.simPointId),
      () => ({ id: f.simInstanceId }),
    )(f, role);
  },
  startInstance: power('startInstance'),
  stopInstance: power('stopInstance'),
  createInstanceSnapshot: mutation(
    async (f, token) => {
      const before = await simSnapshot(f);
      const name = `by-role-${unique()}`;
      const response = await graphql<{
        createInstanceSnapshot: { instanceSnapshot: { id: string; name: string; state: string } };
      }>(
        f.stack.url,
        token,
        `
          mutation ($input: CreateInstanceSnapshotInput!) {
            createInstanceSnapshot(input: $input) {
              instanceSnapshot {
                id
                name
                state
              }
              job {
                id
              }
            }
          }
        `,
        { input: { instanceId: f.simInstanceId, name } },
      );
      return {
        response,
        succeeded: async () => {
          const { instanceSnapshot } = response.data!.createInstanceSnapshot;
          expect(instanceSnapshot).toMatchObject({ name, state: 'IN_PROGRESS' });
          await waitForPoint(f, instanceSnapshot.id, 'COMPLETED');
        },
        unchanged: async () => expect(await simSnapshot(f)).toEqual(before),
      };
    },
    async (f) => {
      await withSimulator(f);
      await ensureSimSettled(f);
    },
  ),
  revertToInstanceSnapshot: mutation(
    async (f, token) => {
      const before = await simSnapshot(f);
      const response = await graphql<{ revertToInstanceSnapshot: { instance: { id: string }; job: { id: string } } }>(
        f.stack.url,
        token,
        `
          mutation ($input: RevertToInstanceSnapshotInput!) {
            revertToInstanceSnapshot(input: $input) {
              instance {
                id
              }
              job {
                id
              }
            }
          }
        `,
        { input: { instanceSnapshotId: f.simPointId, startAfter: false } },
      );
      return {
        response,
        succeeded: async () => {
          const { instance, job } = response.data!.revertToInstanceSnapshot;
          expect(instance.id).toBe(f.simInstanceId);
          const status = await eventually(
            async () => {
              const data = await mustQuery<{ job: { status: string } }>(
                f.stack.url,
                f.stack.adminToken,
                `query($id: ID!) { job(id: $id) { status } }`,
                { id: job.id },
              );
              return ['SUCCEEDED', 'FAILED'].includes(data.job.status) && data.job.status;
            },
            30000,
            'revert job to finish',
          );
          expect(status).toBe('SUCCEEDED');
          await waitFor(f, 'instance', f.simInstanceId, 'STOPPED');
        },
        unchanged: async () => expect(await simSnapshot(f)).toEqual(before),
      };
    },
    async (f) => {
      await withSimulator(f);
      await ensureSim(f, 'STOPPED');
    },
  ),
  deleteInstanceSnapshot: mutation(
    (f, token) => {
      const id = deletablePoint!;
      return destroying(
        f,
        token,
        { name: 'deleteInstanceSnapshot', idField: 'instanceSnapshotId', field: 'instanceSnapshot', id },
        () => waitForPoint(f, id, null),
        async () => expect(await pointState(f, id)).toBe('COMPLETED'),
      );
    },
    async (f) => {
      await withSimulator(f);
      deletablePoint = await makePoint(f);
    },
  ),
  createWebhook: mutation(async (f, token) => {
    const before = await tenantWebhookIds(f);
    const response = await graphql<{ createWebhook: { webhook: { id: string }; secret: string } }>(
      f.stack.url,
      token,
      'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id url } secret } }',
      { input: WEBHOOK_INPUT },
    );
    return {
      response,
      succeeded: async () => {
        expect(response.data!.createWebhook.secret).toMatch(/^whsec_/);
        const { webhooks } = await mustQuery<{ webhooks: Connection }>(
          f.stack.url,
          token,
          '{ webhooks(first: 100) { totalCount edges { node { id } } } }',
        );
        expect(ids(webhooks)).toContain(response.data!.createWebhook.webhook.id);
      },
      unchanged: async () => expect(await tenantWebhookIds(f)).toEqual(before),
    };
  }),
  webhooks: read<{ webhooks: Connection }>('{ webhooks(first: 100) { totalCount edges { node { id } } } }', (data) =>
    expect(Array.isArray(data.webhooks.edges)).toBe(true),
  ),
  webhookDeliveries: async (f: Fixture, role: Role) => {
    deliveriesWebhookId ??= await tenantWebhook(f);
    return read<{ webhookDeliveries: Connection }>(
      'query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount edges { node { id } } } }',
      (data) => expect(data.webhookDeliveries.totalCount).toBe(0),
      () => ({ id: deliveriesWebhookId }),
    )(f, role);
  },
  deleteWebhook: async (f: Fixture, role: Role) => {
    const id = await tenantWebhook(f);
    return mutation(async (_f, token) => {
      const response = await graphql<{ deleteWebhook: { webhook: { id: string } } }>(
        f.stack.url,
        token,
        'mutation($id: ID!) { deleteWebhook(input: { webhookId: $id }) { webhook { id } } }',
        { id },
      );
      return {
        response,
        succeeded: async () => {
          expect(response.data!.deleteWebhook.webhook.id).toBe(id);
          expect(await tenantWebhookIds(f)).not.toContain(id);
        },
        unchanged: async () => expect(await tenantWebhookIds(f)).toContain(id),
      };
    })(f, role);
  },
  updateNotificationSettings: mutation(async (f, token) => {
    const before = await tenantNotificationSettings(f);
    const emails = [`ops-${unique()}@example.test`];
    const response = await graphql<object>(
      f.stack.url,
      token,
      `
        mutation ($input: UpdateNotificationSettingsInput!) {
          updateNotificationSettings(input: $input) {
            organization {
              id
              notificationSettings {
                emails
                events
              }
            }
          }
        }
      `,
      { input: { emails, events: ['policy.run.failed'] } },
    );
    return {
      response,
      succeeded: async () => {
        const { viewer } = await mustQuery<{ viewer: { organization: { notificationSettings: unknown } } }>(
          f.stack.url,
          token,
          '{ viewer { organization { notificationSettings { emails events } } } }',
        );
        expect(viewer.organization.notificationSettings).toEqual({ emails, events: ['policy.run.failed'] });
      },
      unchanged: async () => expect(await tenantNotificationSettings(f)).toEqual(before),
    };
  }),
  snapshotPolicies: async (f: Fixture, role: Role): Promise<Outcome> => {
    listedPolicy ??= await makePolicy(f);
    const id = listedPolicy;
    return read<{ snapshotPolicies: Connection }>(
      `query($v: ID!) { snapshotPolicies(filter: { volumeId: $v }, first: 100) { totalCount edges { node { id } } } }`,
      (data) => expect(ids(data.snapshotPolicies)).toContain(id),
      () => ({ v: f.dataVolumeId }),
    )(f, role);
  },
  createSnapshotPolicy: mutation(async (f, token) => {
    const before = await policyCount(f);
    const response = await graphql<{ createSnapshotPolicy: { snapshotPolicy: { id: string; keep: number } } }>(
      f.stack.url,
      token,
      `
        mutation ($input: CreateSnapshotPolicyInput!) {
          createSnapshotPolicy(input: $input) {
            snapshotPolicy {
              id
              keep
            }
          }
        }
      `,
      { input: { volumeId: f.dataVolumeId, schedule: '0 3 * * *', timezone: 'UTC', keep: 5, enabled: false } },
    );
    return {
      response,
      succeeded: async () => {
        const { id, keep } = response.data!.createSnapshotPolicy.snapshotPolicy;
        expect(keep).toBe(5);
        expect(await policyAsAdmin(f, id)).toEqual({ id, keep: 5 });
      },
      unchanged: async () => expect(await policyCount(f)).toBe(before),
    };
  }),
  updateSnapshotPolicy: mutation(
    async (f, token) => {
      const id = updatablePolicy!;
      const response = await graphql<{ updateSnapshotPolicy: { snapshotPolicy: { id: string; keep: number } } }>(
        f.stack.url,
        token,
        `
          mutation ($id: ID!) {
            updateSnapshotPolicy(input: { snapshotPolicyId: $id, keep: 9 }) {
              snapshotPolicy {
                id
                keep
              }
            }
          }
        `,
        { id },
      );
      return {
        response,
        succeeded: async () => expect(await policyAsAdmin(f, id)).toEqual({ id, keep: 9 }),
        unchanged: async () => expect(await policyAsAdmin(f, id)).toEqual({ id, keep: 3 }),
      };
    },
    async (f) => {
      updatablePolicy = await makePolicy(f);
    },
  ),
  deleteSnapshotPolicy: mutation(
    async (f, token) => {
      const id = deletablePolicy!;
      const response = await graphql<{ deleteSnapshotPolicy: { snapshotPolicy: { id: string } } }>(
        f.stack.url,
        token,
        `
          mutation ($id: ID!) {
            deleteSnapshotPolicy(input: { snapshotPolicyId: $id }) {
              snapshotPolicy {
                id
              }
            }
          }
        `,
        { id },
      );
      return {
        response,
        succeeded: async () => expect(await policyAsAdmin(f, id)).toBeNull(),
        unchanged: async () => expect(await policyAsAdmin(f, id)).toEqual({ id, keep: 3 }),
      };
    },
    async (f) => {
      deletablePolicy = await makePolicy(f);
    },
  ),
  setSnapshotProtection: mutation(async (f, token) => {
    const response = await graphql<{ setSnapshotProtection: { snapshot: { id: string; protected: boolean } } }>(
      f.stack.url,
      token,
      `
        mutation ($id: ID!) {
          setSnapshotProtection(input: { snapshotId: $id, protected: true }) {
            snapshot {
              id
              protected
            }
          }
        }
      `,
      { id: f.snapshotId },
    );
    return {
      response,
      succeeded: async () => {
        expect(response.data!.setSnapshotProtection.snapshot).toEqual({ id: f.snapshotId, protected: true });
        expect(await protectedAsAdmin(f, f.snapshotId)).toBe(true);
        // Back as it was: other cells copy and clone the fixture snapshot.
        await mustQuery(
          f.stack.url,
          f.stack.adminToken,
          `mutation($id: ID!) { setSnapshotProtection(input: { snapshotId: $id, protected: false }) { snapshot { id } } }`,
          { id: f.snapshotId },
        );
      },
      unchanged: async () => expect(await protectedAsAdmin(f, f.snapshotId)).toBe(false),
    };
  }),
};
type Operation = keyof typeof OPERATIONS;

const ALL_OK: Record<Role, Expected> = {
  READ_ONLY: 'OK',
  MEMBER: 'OK',
  ORG_ADMIN: 'OK',
  SUPPORT: 'OK',
  PLATFORM_ADMIN: 'OK',
};
const PLATFORM_ONLY: Record<Role, Expected> = {
  READ_ONLY: 'FORBIDDEN',
  MEMBER: 'FORBIDDEN',
  ORG_ADMIN: 'FORBIDDEN',
  SUPPORT: 'FORBIDDEN',
  PLATFORM_ADMIN: 'OK',
};
/**
 * Writes in the tenant: members and up. Support may read the tenant but not change it: like anything a caller
 * may not act on outside its organization, the tenant's resource is NOT_FOUND to it (READ_ONLY's refusal is
 * its role's, in its own organization: FORBIDDEN).
 */
const WRITE: Record<Role, Expected> = {
  READ_ONLY: 'FORBIDDEN',
  MEMBER: 'OK',
  ORG_ADMIN: 'OK',
  SUPPORT: 'NOT_FOUND',
  PLATFORM_ADMIN: 'OK',
};
/** Writes in the caller's own organization: every role but READ_ONLY (support holds and works its clones). */
const OWN_WRITE: Record<Role, Expected> = { ...ALL_OK, READ_ONLY: 'FORBIDDEN' };
const MANAGE: Record<Role, Expected> = {
  READ_ONLY: 'FORBIDDEN',
  MEMBER: 'FORBIDDEN',
  ORG_ADMIN: 'OK',
  SUPPORT: 'FORBIDDEN',
  PLATFORM_ADMIN: 'OK',
};

const MATRIX: Record<Operation, Record<Role, Expected>> = {
  viewer: ALL_OK,
  environments: ALL_OK,
  instances: ALL_OK,
  volumes: ALL_OK,
  snapshots: ALL_OK,
  'snapshot(id)': ALL_OK,
  'instance(id)': ALL_OK,
  hosts: PLATFORM_ONLY,
  organizations: {
    READ_ONLY: 'FORBIDDEN',
    MEMBER: 'FORBIDDEN',
    ORG_ADMIN: 'FORBIDDEN',
    SUPPORT: 'OK',
    PLATFORM_ADMIN: 'OK',
  },
  createOrganization: PLATFORM_ONLY,
  setOrganizationLimits: PLATFORM_ONLY,
  createSnapshot: WRITE,
  deleteSnapshot: WRITE,
  createInstance: WRITE,
  'createUser MEMBER': MANAGE,
  'createUser READ_ONLY': MANAGE,
  'createUser ORG_ADMIN': MANAGE,
  'createUser SUPPORT': PLATFORM_ONLY,
  'createUser PLATFORM_ADMIN': PLATFORM_ONLY,
  createApiToken: MANAGE,
  // An ORG_ADMIN acts only on users below its own role: never as, or on, a peer ORG_ADMIN.
  'createApiToken for a peer ORG_ADMIN': PLATFORM_ONLY,
  apiTokens: ALL_OK,
  // Everyone may revoke their own tokens (a leaked token must not wait for an administrator).
  'revokeApiToken own': ALL_OK,
  // Others' tokens are invisible to those who may not manage them (NOT_FOUND), except to a peer ORG_ADMIN.
  'revokeApiToken of a MEMBER': { ...MANAGE, READ_ONLY: 'NOT_FOUND', MEMBER: 'NOT_FOUND', SUPPORT: 'NOT_FOUND' },
  'revokeApiToken of a peer ORG_ADMIN': {
    READ_ONLY: 'NOT_FOUND',
    MEMBER: 'NOT_FOUND',
    ORG_ADMIN: 'FORBIDDEN',
    SUPPORT: 'NOT_FOUND',
    PLATFORM_ADMIN: 'OK',
  },
  'updateUser MEMBER role': MANAGE,
  'updateUser MEMBER disabled': MANAGE,
  // Granting its own role is allowed (as createUser does); a role above it is not.
  'updateUser MEMBER to ORG_ADMIN': MANAGE,
  'updateUser MEMBER to SUPPORT': PLATFORM_ONLY,
  'updateUser ORG_ADMIN disabled': PLATFORM_ONLY,
  'deleteUser MEMBER': MANAGE,
  'deleteUser ORG_ADMIN': PLATFORM_ONLY,
  createEnvironment: MANAGE,
  templates: ALL_OK,
  'template(id)': ALL_OK,
  events: ALL_OK,
  revertVolumeToSnapshot: WRITE,
  createTemplateFromSnapshot: WRITE,
  registerTemplate: PLATFORM_ONLY,
  deleteTemplate: WRITE,
  deployInstance: WRITE,
  // A public template belongs to the platform's organization: only a platform administrator deletes it, and to
  // everyone else who may write it is another organization's resource (NOT_FOUND, formerly FORBIDDEN).
  'deleteTemplate public': { ...WRITE, MEMBER: 'NOT_FOUND', ORG_ADMIN: 'NOT_FOUND' },
  createInstanceFromSnapshot: WRITE,
  // Support may clone any organization's snapshot into its own organization (each clone an event).
  'createInstanceFromSnapshot into own organization': { ...WRITE, SUPPORT: 'OK' },
  'destroyInstance in own organization': OWN_WRITE,
  createVolumeFromSnapshot: WRITE,
  destroyInstance: WRITE,
  instanceSnapshots: ALL_OK,
  startInstance: WRITE,
  stopInstance: WRITE,
  createInstanceSnapshot: WRITE,
  revertToInstanceSnapshot: WRITE,
  deleteInstanceSnapshot: WRITE,
  // Webhooks and notification settings: the organization's administrators (a platform administrator's own
  // organization for creations; any organization's webhook by id).
  createWebhook: MANAGE,
  webhooks: MANAGE,
  webhookDeliveries: MANAGE,
  deleteWebhook: MANAGE,
  updateNotificationSettings: MANAGE,
  snapshotPolicies: ALL_OK,
  createSnapshotPolicy: WRITE,
  updateSnapshotPolicy: WRITE,
  deleteSnapshotPolicy: WRITE,
  setSnapshotProtection: WRITE,
};

const CELLS = (Object.keys(MATRIX) as Operation[]).flatMap((operation) =>
  ROLES.map((role) => ({ operation, role, expected: MATRIX[operation][role] })),
);

describeWith(['redis', 'qemu-img'], 'role × operation', () => {
  const f = {} as Fixture;

  beforeAll(async () => {
    f.stack = await startStack({ agents: ['kvm-a'] });
    f.storageDir = f.stack.agents.get('kvm-a')!.storageDir;
    f.tenant = await createTenant(f.stack);
    const { createOrganization } = await mustQuery<{ createOrganization: { organization: { id: string } } }>(
      f.stack.url,
      f.stack.adminToken,
      `mutation($name: String!) { createOrganization(input: { name: $name }) { organization { id } } }`,
      { name: `support-${unique()}` },
    );
    const support = await createUserWithToken(f.stack, createOrganization.organization.id, 'SUPPORT');
    f.tokens = { ...f.tenant.tokens, SUPPORT: support.token, PLATFORM_ADMIN: f.stack.adminToken };

    const { createInstance } = await mustQuery<{ createInstance: { instance: { id: string } } }>(
      f.stack.url,
      f.tenant.tokens.MEMBER,
      `mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } } }`,
      { input: { environmentId: f.tenant.environmentId, name: 'matrix', rootDiskSizeGiB: 1, dataDiskSizesGiB: [1] } },
    );
    const instance = await eventually(
      async () => {
        const { instance } = await mustQuery<{
          instance: { id: string; state: string; volumes: Array<{ id: string; type: string }> };
        }>(
          f.stack.url,
          f.tenant.tokens.MEMBER,
          `query($id: ID!) { instance(id: $id) { id state volumes { id type } } }`,
          {
            id: createInstance.instance.id,
          },
        );
        return instance.state === 'STOPPED' ? instance : null;
      },
      20000,
      'instance to be STOPPED',
    );
    f.instanceId = instance.id;
    f.rootVolumeId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
    f.dataVolumeId = instance.volumes.find((v) => v.type === 'DATADISK')!.id;
    const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string } } }>(
      f.stack.url,
      f.tenant.tokens.MEMBER,
      `mutation($v: ID!) { createSnapshot(input: { volumeId: $v, name: "fixture" }) { snapshot { id } } }`,
      { v: f.rootVolumeId },
    );
    await waitForSnapshot(f.stack, f.tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
    f.snapshotId = createSnapshot.snapshot.id;
  });
  afterAll(() => f.stack?.close());

  it('covers every role for every operation', () => {
    expect(CELLS).toHaveLength(Object.keys(OPERATIONS).length * ROLES.length);
    for (const role of ROLES)
      expect(CELLS.filter((c) => c.role === role && c.expected === 'OK').length).toBeGreaterThan(0);
  });

  it.each(CELLS)('$role $operation → $expected', async ({ operation, role, expected }) => {
    const outcome = await OPERATIONS[operation](f, role);
    const codes = (outcome.response.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');
    if (expected === 'OK') {
      expect(codes).toEqual([]);
      await outcome.succeeded();
    } else {
      expect(codes).toEqual([expected]);
      expect(Object.values(outcome.response.data ?? {}).every((value) => value === null)).toBe(true);
      await outcome.unchanged();
    }
  });

  /** The ORG_ADMIN of another organization, on the tenant's resources: they do not exist (NOT_FOUND). */
  const FOREIGN: Operation[] = [
    'createApiToken for a peer ORG_ADMIN',
    'revokeApiToken of a MEMBER',
    'updateUser MEMBER role',
    'deleteUser MEMBER',
    'revertVolumeToSnapshot',
    'createTemplateFromSnapshot',
    'deleteTemplate',
    'deployInstance',
    'createInstanceFromSnapshot',
    'createVolumeFromSnapshot',
    'destroyInstance',
    'deleteSnapshot',
    'startInstance',
    'stopInstance',
    'createInstanceSnapshot',
    'revertToInstanceSnapshot',
    'deleteInstanceSnapshot',
    'createSnapshotPolicy',
    'updateSnapshotPolicy',
    'deleteSnapshotPolicy',
    'setSnapshotProtection',
  ];

  it.each(FOREIGN)("another organization's ORG_ADMIN %s → NOT_FOUND", async (operation) => {
    foreignAdmin ??= (await createTenant(f.stack)).tokens.ORG_ADMIN;
    const outcome = await OPERATIONS[operation](
      { ...f, tokens: { ...f.tokens, ORG_ADMIN: foreignAdmin } },
      'ORG_ADMIN',
    );
    const codes = (outcome.response.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');
    expect(codes).toEqual(['NOT_FOUND']);
    expect(Object.values(outcome.response.data ?? {}).every((value) => value === null)).toBe(true);
    await outcome.unchanged();
  });
});
