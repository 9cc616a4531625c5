import { randomUUID } from 'node:crypto';
import { IdempotencyClaim, IdempotencyKeyTaken, withIdempotencyClaim, type Database } from '@snapdeck/persistence';
import { openTestDatabase } from '@snapdeck/testing';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency-key.js';
import { IdempotencyKeysPruner } from './idempotency-keys.pruner.js';

describe('idempotency keys on PostgreSQL', () => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => ({ db, close } = await openTestDatabase()));
  afterAll(() => close?.());

  const claimFor = (callerId: string, key: string) =>
    new IdempotencyClaim(
      { callerId, key, field: 'createOrganization', fingerprint: 'f'.repeat(64) },
      new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS),
    );

  it('records the key and the rows the work returned with the first transaction that commits, not a rolled-back one', async () => {
    const caller = randomUUID();
    const claim = claimFor(caller, 'k-1');
    const organization = await withIdempotencyClaim(claim, async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.organizations.create(`rolled-back-${caller.slice(0, 8)}`, {});
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await db.repos.idempotencyKeys.findLive(caller, 'k-1', claim.liveSince)).toBeNull();
      const created = await db.transaction((tx) => tx.organizations.create(`kept-${caller.slice(0, 8)}`, {}));
      // A later transaction of the same request leaves the record alone.
      await db.transaction((tx) => tx.organizations.findById(created.id));
      return created;
    });
    const row = await db.repos.idempotencyKeys.findLive(caller, 'k-1', claim.liveSince);
    expect(row?.result).toEqual({ entities: [{ type: 'Organization', id: organization.id }] });
    expect(claim.recorded).toBe(true);
  });

  it('makes a second transaction with the same key wait for the first, then refuses it (IdempotencyKeyTaken)', async () => {
    const caller = randomUUID();
    let release!: () => void;
    let begun!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (begun = resolve));
    const first = withIdempotencyClaim(claimFor(caller, 'k-2'), () =>
      db.transaction(async () => {
        // The key row is in (uncommitted) by the time the work runs.
        begun();
        await held;
        return 'first';
      }),
    );
    await started;
    // The second's INSERT of the same key waits behind the first's uncommitted row.
    const second = withIdempotencyClaim(claimFor(caller, 'k-2'), () => db.transaction(() => Promise.resolve('second')));
    release();
    await expect(first).resolves.toBe('first');
    await expect(second).rejects.toBeInstanceOf(IdempotencyKeyTaken);
    // Another caller's same key is its own.
    await expect(
      withIdempotencyClaim(claimFor(randomUUID(), 'k-2'), () => db.transaction(() => Promise.resolve('other'))),
    ).resolves.toBe('other');
  });

  it('takes over a key older than 24 h, and the pruner removes such rows only', async () => {
    const caller = randomUUID();
    await withIdempotencyClaim(claimFor(caller, 'old'), () => db.transaction(() => Promise.resolve()));
    await withIdempotencyClaim(claimFor(caller, 'fresh'), () => db.transaction(() => Promise.resolve()));
    await db.dataSource.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE caller_id = $1 AND key = 'old'",
      [caller],
    );
    await expect(
      withIdempotencyClaim(claimFor(caller, 'old'), () => db.transaction(() => Promise.resolve('again'))),
    ).resolves.toBe('again');
    await db.dataSource.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE caller_id = $1 AND key = 'old'",
      [caller],
    );

    expect(await new IdempotencyKeysPruner(db).prune()).toBeGreaterThanOrEqual(1);
    const keys: Array<{ key: string }> = await db.dataSource.query(
      'SELECT key FROM idempotency_keys WHERE caller_id = $1',
      [caller],
    );
    expect(keys.map((k) => k.key)).toEqual(['fresh']);
  });
});
