import { randomBytes } from 'node:crypto';
import { mustQuery } from '../../support/graphql-client.js';
import { createTenant } from '../../support/tenants.js';
import type { FaultStack } from './fault-stack.js';
import { ask, codeOf, type Answer, type AskOptions } from './graphql.js';
import { Fatal, waitFor } from './ports.js';

/** The table a mutation's resource lives in, for the campaign's own reads of the database. */
export type ResourceTable = 'snapshots' | 'instances' | 'templates' | 'instance_snapshots' | 'backups';

/** A mutation the campaigns send: its field, the payload's resource field, and that resource's table. */
export interface MutationKind {
  field: string;
  resource: string;
  table: ResourceTable;
  /** A delete: its resource leaving the table is its final state. */
  removes?: boolean;
}

export const CREATE_SNAPSHOT: MutationKind = { field: 'createSnapshot', resource: 'snapshot', table: 'snapshots' };
export const DELETE_SNAPSHOT: MutationKind = {
  field: 'deleteSnapshot',
  resource: 'snapshot',
  table: 'snapshots',
  removes: true,
};
export const DEPLOY_INSTANCE: MutationKind = { field: 'deployInstance', resource: 'instance', table: 'instances' };
export const CREATE_TEMPLATE: MutationKind = {
  field: 'createTemplateFromSnapshot',
  resource: 'template',
  table: 'templates',
};
export const CREATE_RECOVERY_POINT: MutationKind = {
  field: 'createInstanceSnapshot',
  resource: 'instanceSnapshot',
  table: 'instance_snapshots',
};

export const CREATE_BACKUP: MutationKind = { field: 'createBackup', resource: 'backup', table: 'backups' };
/** A restore's resource is the instance it writes (a new one, or the backup's own). */
export const RESTORE_BACKUP: MutationKind = { field: 'restoreBackup', resource: 'instance', table: 'instances' };

export type Payload = Record<string, { id: string }>;

/** Sends one mutation of `kind`; never throws (the api may be down: the campaign records the answer). */
export function send(
  stack: FaultStack,
  token: string,
  kind: MutationKind,
  input: Record<string, unknown>,
  options: AskOptions = {},
): Promise<Answer<Record<string, Payload>>> {
  const inputType = `${kind.field[0].toUpperCase()}${kind.field.slice(1)}Input`;
  return ask<Record<string, Payload>>(
    stack.url,
    token,
    `mutation($input: ${inputType}!) { ${kind.field}(input: $input) { ${kind.resource} { id } job { id } } }`,
    { input },
    options,
  );
}

/** The resource and job ids of a successful answer, or null with the answer's code. */
export function acceptedIds(
  kind: MutationKind,
  answer: Answer<Record<string, Payload>>,
): { resourceId: string; jobId: string } | null {
  if (codeOf(answer) !== null || answer.transportError !== undefined) return null;
  const payload = answer.response.data?.[kind.field];
  return payload ? { resourceId: payload[kind.resource].id, jobId: payload.job.id } : null;
}

/** A short unique resource name. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

/** A fresh organization; campaigns act as its MEMBER. */
export async function memberOf(stack: FaultStack): Promise<{ token: string; environmentId: string }> {
  const tenant = await createTenant(stack);
  return { token: tenant.tokens.MEMBER, environmentId: tenant.environmentId };
}

export async function hostIds(stack: FaultStack): Promise<Map<string, string>> {
  const data = await mustQuery<{ hosts: { edges: Array<{ node: { id: string; name: string; state: string } }> } }>(
    stack.url,
    stack.adminToken,
    '{ hosts(first: 100) { edges { node { id name state } } } }',
  );
  return new Map(data.hosts.edges.map((e) => [e.node.name, e.node.id]));
}

export interface Instance {
  id: string;
  volumes: Array<{ id: string; type: string }>;
}

/** Creates an instance on `hostId` and waits (bounded) until it is STOPPED with its volumes on disk. */
export async function createInstance(
  stack: FaultStack,
  token: string,
  input: { environmentId: string; hostId: string; dataDiskSizesGiB?: number[] },
): Promise<Instance> {
  const { createInstance } = await mustQuery<{ createInstance: { instance: { id: string } } }>(
    stack.url,
    token,
    'mutation($input: CreateInstanceInput!) { createInstance(input: $input) { instance { id } job { id } } }',
    { input: { name: uniqueName('vm'), rootDiskSizeGiB: 1, ...input } },
  );
  return waitForInstance(stack, token, createInstance.instance.id, 'STOPPED');
}

export async function waitForInstance(
  stack: FaultStack,
  token: string,
  id: string,
  state: string,
  timeoutMs = 90_000,
): Promise<Instance> {
  return waitFor(
    async () => {
      const { instance } = await mustQuery<{ instance: Instance & { state: string } }>(
        stack.url,
        token,
        'query($id: ID!) { instance(id: $id) { id state volumes { id type state } } }',
        { id },
      );
      if (instance.state === 'ERROR') throw new Fatal(`instance ${id} is ERROR`);
      return instance.state === state && instance;
    },
    timeoutMs,
    `instance ${id} to be ${state}`,
    200,
  );
}

/** Starts a STOPPED instance and waits (bounded) until it is RUNNING: set-up of the libvirt campaigns. */
export async function startInstance(stack: FaultStack, token: string, id: string): Promise<Instance> {
  await mustQuery(
    stack.url,
    token,
    'mutation($id: ID!) { startInstance(input: { instanceId: $id }) { instance { id } job { id } } }',
    { id },
  );
  return waitForInstance(stack, token, id, 'RUNNING');
}

/**
 * Stops running instances before the verdict: `qemu-img check` of an image a running QEMU holds reads its
 * unflushed refcounts as leaks, so the check must read what is really on disk. One that does not stop is noted
 * (the verdict reports what it left), not thrown.
 */
export async function stopForChecks(
  stack: FaultStack,
  token: string,
  ids: readonly string[],
  note: (line: string) => void,
): Promise<void> {
  for (const id of ids) {
    await ask(
      stack.url,
      token,
      'mutation($id: ID!) { stopInstance(input: { instanceId: $id }) { instance { id } job { id } } }',
      { id },
    );
    await waitForInstance(stack, token, id, 'STOPPED').catch(() => note(`instance ${id} did not stop`));
  }
}

/** Sends a mutation that must be accepted and waits (bounded) until its job is final: campaign set-up. */
export async function completed(
  stack: FaultStack,
  token: string,
  kind: MutationKind,
  input: Record<string, unknown>,
): Promise<string> {
  const answer = await send(stack, token, kind, input);
  const ids = acceptedIds(kind, answer);
  if (!ids) throw new Error(`${kind.field} refused during set-up: ${JSON.stringify(answer)}`);
  await waitFor(
    async () => {
      const { job } = await mustQuery<{ job: { status: string; error: string | null } }>(
        stack.url,
        token,
        'query($id: ID!) { job(id: $id) { status error } }',
        { id: ids.jobId },
      );
      if (job.status === 'FAILED') throw new Fatal(`${kind.field} failed during set-up: ${job.error}`);
      return job.status === 'SUCCEEDED';
    },
    90_000,
    `${kind.field} ${ids.resourceId} to succeed`,
    100,
  );
  return ids.resourceId;
}
