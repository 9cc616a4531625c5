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
): Promise<boolean> {
  return (await conditionalTransitionMany(manager, entity, [id], from, to, extra)) === 1;
}

/** The same for several rows at once; returns how many moved (a caller that needs all of them compares). */
export async function conditionalTransitionMany<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  ids: readonly string[],
  from: readonly string[],
  to: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
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
