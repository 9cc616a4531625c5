import type { SelectQueryBuilder, ObjectLiteral } from 'typeorm';

/**
 * Which organizations a read may see. Every repository method that answers a caller takes one, so such a query
 * cannot be written without a tenant filter; `all` is what platform staff (and SUPPORT, for reads) get, and what
 * orchestration uses after a scoped read found the row. The reads that take none are internal (authentication,
 * locks, children of a checked parent, orchestration): docs/architecture.md lists them with the reason.
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
