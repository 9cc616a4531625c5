import { hasPermission, Permission, type Role } from '@snapdeck/domain';
import { ALL_ORGANIZATIONS, organizationScope, type ReadScope } from '@snapdeck/persistence';

/** The authenticated caller of one request. */
export interface Principal {
  readonly userId: string;
  readonly email: string;
  readonly organizationId: string;
  readonly role: Role;
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
