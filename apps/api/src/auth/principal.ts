import { hasPermission, Permission, type Role } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, organizationScope, type ReadScope, type TokenScope } from '@snapdeck/persistence';

/** The authenticated caller of one request. */
export interface Principal {
  readonly userId: string;
  readonly email: string;
  readonly organizationId: string;
  readonly role: Role;
  /** The token this request authenticated with (absent for principals made in tests without one). */
  readonly tokenId?: string;
}

/** What the caller may read: its own organization, or every one for support and platform staff. */
export function readScope(principal: Principal): ReadScope {
  return hasPermission(principal.role, Permission.READ_ALL_ORGANIZATIONS)
    ? ALL_ORGANIZATIONS
    : organizationScope(principal.organizationId);
}

/** What the caller may change: its own organization; only platform administrators reach every one. */
export function writeScope(principal: Principal): ReadScope {
  return hasPermission(principal.role, Permission.PLATFORM)
    ? ALL_ORGANIZATIONS
    : organizationScope(principal.organizationId);
}

export function can(principal: Principal, permission: Permission): boolean {
  return hasPermission(principal.role, permission);
}

/**
 * Which api tokens the caller sees (apiTokens, node, revokeApiToken): a platform administrator every one,
 * an organization administrator its organization's, everyone else (support staff included: tokens are
 * credentials, not tenant data to troubleshoot) only their own.
 */
export function tokenScope(principal: Principal): TokenScope {
  if (hasPermission(principal.role, Permission.PLATFORM)) return ALL_ORGANIZATIONS;
  if (hasPermission(principal.role, Permission.MANAGE_ORGANIZATION)) return organizationScope(principal.organizationId);
  return { kind: 'user', userId: principal.userId };
}
