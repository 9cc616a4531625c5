import { Role } from './enums.js';
import { canGrantRole, canManageUser, hasPermission, Permission, ROLE_PERMISSIONS } from './permissions.js';

/**
 * The role -> permission table of the contract ("Rules the contract promises", Roles), written out by hand:
 * READ_ONLY reads; MEMBER also creates, deletes, reverts and deploys; ORG_ADMIN also manages users, tokens and
 * environments of its organization; SUPPORT reads every organization and clones from any of them into its own
 * (and works in its own organization like a member, see permissions.ts); PLATFORM_ADMIN does everything.
 */
const R = Permission.READ;
const W = Permission.WRITE;
const M = Permission.MANAGE_ORGANIZATION;
const RA = Permission.READ_ALL_ORGANIZATIONS;
const CA = Permission.CLONE_ACROSS_ORGANIZATIONS;
const P = Permission.PLATFORM;

const EXPECTED: Record<Role, Permission[]> = {
  [Role.READ_ONLY]: [R],
  [Role.MEMBER]: [R, W],
  [Role.ORG_ADMIN]: [R, W, M],
  [Role.SUPPORT]: [R, W, RA, CA],
  [Role.PLATFORM_ADMIN]: [R, W, M, RA, CA, P],
};

/** Who may grant what (createUser with a role): rows are granters, columns the role granted. */
const GRANTS: Record<Role, Role[]> = {
  [Role.PLATFORM_ADMIN]: [Role.PLATFORM_ADMIN, Role.SUPPORT, Role.ORG_ADMIN, Role.MEMBER, Role.READ_ONLY],
  [Role.ORG_ADMIN]: [Role.ORG_ADMIN, Role.MEMBER, Role.READ_ONLY],
  [Role.SUPPORT]: [],
  [Role.MEMBER]: [],
  [Role.READ_ONLY]: [],
};

const ROLES = Object.values(Role);
const PERMISSIONS = Object.values(Permission);

describe('permissions', () => {
  it('knows exactly the six permissions the table covers', () => {
    expect([...PERMISSIONS].sort()).toEqual([R, W, M, RA, CA, P].sort());
  });

  it('has a row for every role', () => {
    expect(Object.keys(ROLE_PERMISSIONS).sort()).toEqual([...ROLES].sort());
  });

  it.each(ROLES)('%s has exactly the expected permissions', (role) => {
    expect([...ROLE_PERMISSIONS[role]].sort()).toEqual([...EXPECTED[role]].sort());
  });

  const cells = ROLES.flatMap((role) =>
    PERMISSIONS.map((permission) => ({ role, permission, expected: EXPECTED[role].includes(permission) })),
  );
  it.each(cells)('hasPermission($role, $permission) is $expected', ({ role, permission, expected }) => {
    expect(hasPermission(role, permission)).toBe(expected);
  });

  it('each role of the organization ladder keeps everything the one below has', () => {
    const ladder = [Role.READ_ONLY, Role.MEMBER, Role.ORG_ADMIN, Role.PLATFORM_ADMIN];
    for (let i = 1; i < ladder.length; i++) {
      for (const permission of ROLE_PERMISSIONS[ladder[i - 1]]) {
        expect(hasPermission(ladder[i], permission)).toBe(true);
      }
    }
  });

  it('only PLATFORM_ADMIN has the platform permission', () => {
    expect(ROLES.filter((role) => hasPermission(role, Permission.PLATFORM))).toEqual([Role.PLATFORM_ADMIN]);
  });

  it('SUPPORT reads all organizations and clones across, but does not manage an organization', () => {
    expect(hasPermission(Role.SUPPORT, Permission.READ_ALL_ORGANIZATIONS)).toBe(true);
    expect(hasPermission(Role.SUPPORT, Permission.CLONE_ACROSS_ORGANIZATIONS)).toBe(true);
    expect(hasPermission(Role.SUPPORT, Permission.MANAGE_ORGANIZATION)).toBe(false);
    expect(hasPermission(Role.SUPPORT, Permission.PLATFORM)).toBe(false);
  });

  it('no organization role reads or clones across organizations', () => {
    for (const role of [Role.READ_ONLY, Role.MEMBER, Role.ORG_ADMIN]) {
      expect(hasPermission(role, Permission.READ_ALL_ORGANIZATIONS)).toBe(false);
      expect(hasPermission(role, Permission.CLONE_ACROSS_ORGANIZATIONS)).toBe(false);
    }
  });
});

describe('canGrantRole', () => {
  const grantCells = ROLES.flatMap((granter) =>
    ROLES.map((role) => ({ granter, role, expected: GRANTS[granter].includes(role) })),
  );

  it.each(grantCells)('$granter granting $role: $expected', ({ granter, role, expected }) => {
    expect(canGrantRole(granter, role)).toBe(expected);
  });

  it('an ORG_ADMIN cannot mint the platform-wide roles', () => {
    expect(canGrantRole(Role.ORG_ADMIN, Role.PLATFORM_ADMIN)).toBe(false);
    expect(canGrantRole(Role.ORG_ADMIN, Role.SUPPORT)).toBe(false);
  });

  it('a MEMBER, a READ_ONLY user and SUPPORT grant nothing', () => {
    for (const granter of [Role.MEMBER, Role.READ_ONLY, Role.SUPPORT]) {
      for (const role of ROLES) expect(canGrantRole(granter, role)).toBe(false);
    }
  });
});

describe('canManageUser', () => {
  const MANAGED: Record<Role, Role[]> = {
    [Role.PLATFORM_ADMIN]: ROLES,
    [Role.ORG_ADMIN]: [Role.MEMBER, Role.READ_ONLY],
    [Role.SUPPORT]: [],
    [Role.MEMBER]: [],
    [Role.READ_ONLY]: [],
  };
  const cells = ROLES.flatMap((manager) =>
    ROLES.map((user) => ({ manager, user, expected: MANAGED[manager].includes(user) })),
  );

  it.each(cells)('$manager managing a $user: $expected', ({ manager, user, expected }) => {
    expect(canManageUser(manager, user)).toBe(expected);
  });

  it('an ORG_ADMIN may grant its own role but not act on a peer who holds it', () => {
    expect(canGrantRole(Role.ORG_ADMIN, Role.ORG_ADMIN)).toBe(true);
    expect(canManageUser(Role.ORG_ADMIN, Role.ORG_ADMIN)).toBe(false);
  });
});
