import { Role } from './enums.js';

/**
 * What a caller may do. Reads and writes are scoped to the caller's organization unless the role has the
 * cross-organization permission too.
 */
export enum Permission {
  /** Read the resources of the caller's organization. */
  READ = 'READ',
  /** Create, delete, revert and deploy within the caller's organization. */
  WRITE = 'WRITE',
  /** Manage users, tokens and environments of the caller's organization. */
  MANAGE_ORGANIZATION = 'MANAGE_ORGANIZATION',
  /** Read every organization's resources. */
  READ_ALL_ORGANIZATIONS = 'READ_ALL_ORGANIZATIONS',
  /** Clone any organization's snapshot into an environment of the caller's own organization. */
  CLONE_ACROSS_ORGANIZATIONS = 'CLONE_ACROSS_ORGANIZATIONS',
  /** Organizations, hosts, public templates, and writes in any organization. */
  PLATFORM = 'PLATFORM',
}

const READ_ONLY = [Permission.READ];
const MEMBER = [...READ_ONLY, Permission.WRITE];
const ORG_ADMIN = [...MEMBER, Permission.MANAGE_ORGANIZATION];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  [Role.READ_ONLY]: READ_ONLY,
  [Role.MEMBER]: MEMBER,
  [Role.ORG_ADMIN]: ORG_ADMIN,
  // Support staff work in their own organization like a member and read every other one.
  [Role.SUPPORT]: [...MEMBER, Permission.READ_ALL_ORGANIZATIONS, Permission.CLONE_ACROSS_ORGANIZATIONS],
  [Role.PLATFORM_ADMIN]: Object.values(Permission),
};

export function hasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** Roles a caller may grant: nobody but a platform administrator mints platform-wide roles. */
export function canGrantRole(granter: Role, role: Role): boolean {
  if (granter === Role.PLATFORM_ADMIN) return true;
  if (granter === Role.ORG_ADMIN) return role === Role.ORG_ADMIN || role === Role.MEMBER || role === Role.READ_ONLY;
  return false;
}

/**
 * Whether a caller may act on an existing user of an organization it manages: change its role, disable,
 * delete it, mint or revoke its tokens. Strictly below the caller's own role: an ORG_ADMIN manages MEMBER and
 * READ_ONLY users, not a peer ORG_ADMIN (acting as a peer would let one administrator take over another's
 * identity and audit trail); only a platform administrator manages every user. Acting on oneself is decided
 * by the caller (own tokens, for instance), not here.
 */
export function canManageUser(manager: Role, user: Role): boolean {
  if (manager === Role.PLATFORM_ADMIN) return true;
  if (manager === Role.ORG_ADMIN) return user === Role.MEMBER || user === Role.READ_ONLY;
  return false;
}
