import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Moves one row to `to` only if it is still in one of `from`: `UPDATE … WHERE id = $1 AND state IN (…)`.
 * The affected-row count says who won, so two concurrent requests can never both move the same resource.
 */
export async function conditionalTransition<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  id: string,
  from: readonly string[],
  to: string,
  extra: Record<string, unknown> = {},
  stateColumn = 'state',
): Promise<boolean> {
  if (from.length === 0) return false;
  const result = await manager
    .createQueryBuilder()
    .update(entity)
    .set({ [stateColumn]: to, ...extra } as never)
    .where('id = :id', { id })
    .andWhere(`${stateColumn} IN (:...from)`, { from })
    .execute();
  return result.affected === 1;
}
