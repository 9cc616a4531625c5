import { Role } from '@snapdeck/domain';
import { openTestDatabase } from '@snapdeck/testing';
import { randomBytes } from 'node:crypto';
import type { Database } from '../database.js';
import { organizationScope, ALL_ORGANIZATIONS } from '../scope.js';

/**
 * Which tokens authenticate, on a real PostgreSQL: revoked, expired and disabled users' tokens do not; the
 * re-check of open sockets asks for many at once; lastUsedAt is written at most once a minute, however many
 * concurrent authentications race; the scopes of apiTokens; e-mail addresses unique per organization.
 */
describe('ApiTokenRepository', () => {
  let db: Database;
  let close: () => Promise<void>;
  const hash = () => randomBytes(32).toString('hex');

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase());
  });
  afterAll(() => close?.());

  async function user(role = Role.MEMBER, organizationId?: string) {
    const orgId = organizationId ?? (await db.repos.organizations.create(`org-${hash().slice(0, 12)}`)).id;
    return db.repos.users.create(orgId, `u-${hash().slice(0, 8)}@example.test`, role);
  }

  it('authenticates a live token only: not revoked, not expired, its user not disabled', async () => {
    const owner = await user();
    const [live, revoked, expired, future] = [hash(), hash(), hash(), hash()];
    const liveRow = await db.repos.apiTokens.create(owner.id, 'live', live);
    const revokedRow = await db.repos.apiTokens.create(owner.id, 'revoked', revoked);
    await db.repos.apiTokens.create(owner.id, 'expired', expired, new Date(Date.now() - 1000));
    await db.repos.apiTokens.create(owner.id, 'future', future, new Date(Date.now() + 3600_000));
    expect(await db.repos.apiTokens.revoke(revokedRow.id)).toBe(true);
    expect(await db.repos.apiTokens.revoke(revokedRow.id)).toBe(false);

    expect((await db.repos.apiTokens.authenticate(live))?.user.id).toBe(owner.id);
    expect((await db.repos.apiTokens.authenticate(future))?.token.name).toBe('future');
    expect(await db.repos.apiTokens.authenticate(revoked)).toBeNull();
    expect(await db.repos.apiTokens.authenticate(expired)).toBeNull();
    expect((await db.repos.apiTokens.stillValid([liveRow.id, revokedRow.id])).map((t) => t.token.id)).toEqual([
      liveRow.id,
    ]);

    await db.repos.users.update(owner.id, { disabled: true });
    expect(await db.repos.apiTokens.authenticate(live)).toBeNull();
    expect(await db.repos.apiTokens.stillValid([liveRow.id])).toEqual([]);
    await db.repos.users.update(owner.id, { disabled: false });
    expect(await db.repos.apiTokens.authenticate(live)).not.toBeNull();

    // Deleting the user deletes its tokens.
    expect(await db.repos.users.delete(owner.id)).toBe(true);
    expect(await db.repos.apiTokens.findById(ALL_ORGANIZATIONS, liveRow.id)).toBeNull();
  });

  it('writes lastUsedAt once however many authentications race, and again only after a minute', async () => {
    const owner = await user();
    const row = await db.repos.apiTokens.create(owner.id, 't', hash());
    await Promise.all(Array.from({ length: 20 }, () => db.repos.apiTokens.touch(row.id)));
    const first = (await db.repos.apiTokens.findById(ALL_ORGANIZATIONS, row.id))!.lastUsedAt!;
    expect(first).toBeInstanceOf(Date);
    await db.repos.apiTokens.touch(row.id);
    expect((await db.repos.apiTokens.findById(ALL_ORGANIZATIONS, row.id))!.lastUsedAt).toEqual(first);
    await db.dataSource.query(`UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE id = $1`, [
      row.id,
    ]);
    await db.repos.apiTokens.touch(row.id);
    const later = (await db.repos.apiTokens.findById(ALL_ORGANIZATIONS, row.id))!.lastUsedAt!;
    expect(later.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("scopes tokens to a user, an organization, or all; another organization's token is not found", async () => {
    const a1 = await user();
    const a2 = await user(Role.READ_ONLY, a1.organizationId);
    const b = await user();
    const t1 = await db.repos.apiTokens.create(a1.id, 'a1', hash());
    const t2 = await db.repos.apiTokens.create(a2.id, 'a2', hash());
    const t3 = await db.repos.apiTokens.create(b.id, 'b', hash());
    const ids = async (scope: Parameters<Database['repos']['apiTokens']['list']>[0]) =>
      (await db.repos.apiTokens.list(scope, { first: 100 })).items.map((t) => t.id);
    expect(await ids({ kind: 'user', userId: a1.id })).toEqual([t1.id]);
    expect(await ids(organizationScope(a1.organizationId))).toEqual([t2.id, t1.id]);
    expect(await ids(ALL_ORGANIZATIONS)).toEqual(expect.arrayContaining([t1.id, t2.id, t3.id]));
    expect(await db.repos.apiTokens.findById(organizationScope(a1.organizationId), t3.id)).toBeNull();
    expect(await db.repos.apiTokens.findById({ kind: 'user', userId: a1.id }, t2.id)).toBeNull();
  });

  it('e-mail addresses are unique per organization, not across organizations', async () => {
    const a = await user();
    const b = await user();
    await db.repos.users.create(a.organizationId, 'same@example.test', Role.MEMBER);
    await db.repos.users.create(b.organizationId, 'same@example.test', Role.MEMBER);
    await expect(db.repos.users.create(a.organizationId, 'same@example.test', Role.READ_ONLY)).rejects.toThrow(
      /uq_users_organization_email/,
    );
    expect((await db.repos.users.findByEmail(b.organizationId, 'same@example.test'))?.organizationId).toBe(
      b.organizationId,
    );
  });
});
