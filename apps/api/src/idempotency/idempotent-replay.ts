import { conflict, notFound } from '@snapdeck/domain';
import type { IdempotentResult, Repositories } from '@snapdeck/persistence';
import {
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLOutputType,
} from 'graphql';
import type { Principal } from '../auth/principal.js';
import { findNode } from '../nodes/nodes.resolver.js';

const notRepeatable = (field: string) =>
  conflict(
    `This Idempotency-Key was used by a request that was done already; its answer's ${field} is shown only once ` +
      'and cannot be repeated: read the resource instead, or use a new key for a new request',
  );

/** The rows of `type` the first request's work returned, as they are now (within what the caller may read). */
async function rowsOf(repos: Repositories, principal: Principal, result: IdempotentResult, type: string) {
  const ids = result.entities.filter((entity) => entity.type === type).map((entity) => entity.id);
  const rows = await Promise.all(ids.map(async (id) => ({ id, node: await findNode(repos, principal, id) })));
  return rows;
}

async function fieldValue(
  repos: Repositories,
  principal: Principal,
  result: IdempotentResult,
  name: string,
  field: GraphQLField<unknown, unknown>,
): Promise<unknown> {
  const type = getNamedType(field.type).name;
  const rows = await rowsOf(repos, principal, result, type);
  if (isListType(getNullableType(field.type))) return rows.flatMap((row) => (row.node ? [row.node] : []));
  if (rows.length === 0) {
    if (isNonNullType(field.type)) throw notRepeatable(name);
    return null;
  }
  const { id, node } = rows[0];
  // Gone since (deleted, or out of the caller's reach): said plainly rather than answered as null.
  if (!node && isNonNullType(field.type)) throw notFound(type, id);
  return node;
}

/**
 * The first request's answer rebuilt from what it recorded: each field of the mutation's payload type is the
 * row of that field's type the work returned, read again now, so the replay shows the same resources in their
 * current state (a job that ran meanwhile shows its progress). A field no row stands for (a secret shown once)
 * cannot be repeated: CONFLICT.
 */
export async function replayPayload(
  repos: Repositories,
  principal: Principal,
  returnType: GraphQLOutputType,
  result: IdempotentResult,
): Promise<unknown> {
  const payloadType = getNamedType(returnType);
  if (!isObjectType(payloadType)) throw notRepeatable('value');
  // A mutation that answers a resource itself rather than a payload around it.
  if (payloadType.getInterfaces().some((face) => face.name === 'Node')) {
    return fieldValue(repos, principal, result, 'result', { type: returnType } as GraphQLField<unknown, unknown>);
  }
  const payload: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(payloadType.getFields())) {
    payload[name] = await fieldValue(repos, principal, result, name, field);
  }
  return payload;
}
