import type { StateMachine } from '@snapdeck/domain';
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Refuses, before any SQL, a move that the resource's transition table (libs/domain/src/machines.ts) forbids:
 * every `from → to` must be in the table. A refusal is a programming error in the caller, not a user's
 * conflict: it throws a plain Error (INTERNAL_SERVER_ERROR to a client), never a DomainError.
 */
export function assertMachineAllows<S extends string>(machine: StateMachine<S>, from: readonly S[], to: S): void {
  const forbidden = from.filter((state) => !machine.canTransition(state, to));
  if (forbidden.length > 0) {
    throw new Error(
      `${machine.resource} transition refused by its state machine: ${forbidden.join(', ')} → ${to} is not in the table`,
    );
  }
}

/**
 * Moves one row to `to` only if it is still in one of `from`: `UPDATE … WHERE id = $1 AND state IN (…)`.
 * The affected-row count says who won, so two concurrent requests can never both move the same resource.
 * Every `from → to` must be allowed by `machine` (see assertMachineAllows).
 */
export async function conditionalTransition<E extends ObjectLiteral, S extends string>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  machine: StateMachine<S>,
  id: string,
  from: readonly S[],
  to: S,
  extra: Record<string, unknown> = {},
): Promise<boolean> {
  return (await conditionalTransitionMany(manager, entity, machine, [id], from, to, extra)) === 1;
}

/** The same for several rows at once; returns how many moved (a caller that needs all of them compares). */
export async function conditionalTransitionMany<E extends ObjectLiteral, S extends string>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  machine: StateMachine<S>,
  ids: readonly string[],
  from: readonly S[],
  to: S,
  extra: Record<string, unknown> = {},
): Promise<number> {
  assertMachineAllows(machine, from, to);
  if (ids.length === 0 || from.length === 0) return 0;
  const result = await manager
    .createQueryBuilder()
    .update(entity)
    .set({ state: to, ...extra } as never)
    .where('id IN (:...ids)', { ids })
    .andWhere('state IN (:...from)', { from })
    .execute();
  return result.affected ?? 0;
}

/** Deletes rows by id, only those still in one of `from` when given; returns how many went. */
export async function conditionalRemove<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  ids: readonly string[],
  from?: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const query = manager.createQueryBuilder().delete().from(entity).where('id IN (:...ids)', { ids });
  if (from) query.andWhere('state IN (:...from)', { from });
  return (await query.execute()).affected ?? 0;
}
