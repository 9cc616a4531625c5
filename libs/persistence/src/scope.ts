import type { SelectQueryBuilder, ObjectLiteral } from 'typeorm';

/**
 * Which organizations a read may see. Every repository method that reads tenant data takes one, so a
 * query without a tenant filter cannot be written by accident; `all` is granted only to platform staff.
 */
export type ReadScope = { readonly kind: 'organization'; readonly organizationId: string } | { readonly kind: 'all' };

export function organizationScope(organizationId: string): ReadScope {
  return { kind: 'organization', organizationId };
}

export const ALL_ORGANIZATIONS: ReadScope = { kind: 'all' };

export function applyScope<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  scope: ReadScope,
): SelectQueryBuilder<T> {
  if (scope.kind === 'all') return qb;
  return qb.andWhere(`${alias}.organization_id = :scopeOrganizationId`, { scopeOrganizationId: scope.organizationId });
}
