import { DomainError, ErrorCode, type EventTypeValue, type NotificationPayload } from '@snapdeck/domain';
import { OutboxStatus, type Database, type Repositories, type WebhookDeliveryEntity } from '@snapdeck/persistence';
import { openTestDatabase, startReceiver, type TestReceiver } from '@snapdeck/testing';
import { randomUUID } from 'node:crypto';
import { enforceLimits } from '../common/limits.js';
import { OutboxDrainer, type DrainerOptions, type MailSender } from './outbox-drainer.js';
import { SIGNATURE_HEADER, verifySignature } from './webhook-signature.js';
import { checkWebhookUrlInput } from './webhook-target.js';

/**
 * The outbox on a real PostgreSQL, delivering to real HTTP receivers on loopback: rows exist exactly when their
 * event committed, concurrent drainers never send one row twice, failures are retried, redirects and private
 * targets are failures.
 */
describe('notification outbox (PostgreSQL, HTTP on loopback)', () => {
  let db: Database;
  let close: () => Promise<void>;
  let receiver: TestReceiver;
  const secret = 'whsec_integration';

  const options = (overrides: Partial<DrainerOptions> = {}): DrainerOptions => ({
    allowPrivateAddresses: true,
    timeoutMs: 5000,
    retry: { baseMs: 1, maxMs: 2, giveUpAfterMs: 60_000 },
    batchSize: 5,
    ...overrides,
  });

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase());
  });
  beforeEach(async () => {
    receiver = await startReceiver();
    // Each test drains only its own rows: the earlier tests' receivers are closed (their rows would be retried
    // every few ms until the bound).
    await db.dataSource.query("UPDATE webhook_deliveries SET status = 'FAILED' WHERE status = 'PENDING'");
    await db.dataSource.query("UPDATE notification_emails SET status = 'FAILED' WHERE status = 'PENDING'");
  });
  afterEach(() => receiver.close());
  afterAll(() => close?.());

  async function organization(): Promise<string> {
    return (await db.repos.organizations.create(`ntf-${randomUUID().slice(0, 8)}`)).id;
  }

  async function webhook(organizationId: string, url = receiver.url, events: string[] = []) {
    return db.repos.webhooks.create({ organizationId, url, events, signingSecret: secret });
  }

  function record(tx: Repositories, organizationId: string, type: EventTypeValue = 'snapshot.completed', details = {}) {
    return tx.events.record({
      organizationId,
      actorUserId: null,
      type,
      resourceType: 'Snapshot',
      resourceId: randomUUID(),
      message: 'Snapshot completed',
      details,
    });
  }

  async function deliveriesOf(eventId: string): Promise<WebhookDeliveryEntity[]> {
    return db.dataSource.manager.find('WebhookDeliveryEntity', { where: { eventId } }) as Promise<
      WebhookDeliveryEntity[]
    >;
  }

  /** Drains until the row leaves PENDING (each retry is due a few ms later): no clock in the assertion. */
  async function drainUntilSettled(drainer: OutboxDrainer, eventId: string): Promise<WebhookDeliveryEntity> {
    for (let i = 0; i < 200; i++) {
      await drainer.drain();
      const [row] = await deliveriesOf(eventId);
      if (row && row.status !== OutboxStatus.PENDING) return row;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('the delivery never settled');
  }

  it('writes a delivery in the transaction of its event; a rolled-back transaction leaves neither', async () => {
    const org = await organization();
    await webhook(org);
    const committed = await db.transaction((tx) => record(tx, org));
    const rows = await deliveriesOf(committed.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe(OutboxStatus.PENDING);
    expect(rows[0].payload).toMatchObject({ id: committed.id, type: 'snapshot.completed', organizationId: org });

    let rolledBackId = '';
    await expect(
      db.transaction(async (tx) => {
        rolledBackId = (await record(tx, org)).id;
        throw new Error('the request failed after recording');
      }),
    ).rejects.toThrow('the request failed after recording');
    expect(await db.repos.events.findById({ kind: 'all' }, rolledBackId)).toBeNull();
    expect(await deliveriesOf(rolledBackId)).toHaveLength(0);
  });

  it('only for enabled webhooks of the organization that want the type; non-notifiable events have none', async () => {
    const org = await organization();
    const other = await organization();
    await webhook(other);
    const wantsFailures = await webhook(org, receiver.url, ['snapshot.failed']);
    const wantsAll = await webhook(org);
    const completed = await db.transaction((tx) => record(tx, org, 'snapshot.completed'));
    expect((await deliveriesOf(completed.id)).map((d) => d.webhookId)).toEqual([wantsAll.id]);
    const failed = await db.transaction((tx) => record(tx, org, 'snapshot.failed'));
    expect((await deliveriesOf(failed.id)).map((d) => d.webhookId).sort()).toEqual(
      [wantsFailures.id, wantsAll.id].sort(),
    );
    const audit = await db.transaction((tx) => record(tx, org, 'snapshot.delete_failed'));
    expect(await deliveriesOf(audit.id)).toHaveLength(0);
  });

  it('writes one mail to the event’s notify addresses and the settings’ addresses for that type', async () => {
    const org = await organization();
    await db.repos.organizations.setNotificationSettings(org, {
      emails: ['ops@example.com'],
      events: ['policy.run.failed'],
    });
    const failed = await db.transaction((tx) =>
      record(tx, org, 'policy.run.failed', {
        notify: ['Owner@Example.com', 'ops@example.com'],
        error: 'quota',
        policyId: '01a23400-0000-7000-8000-0000000000aa',
        policyName: 'nightly',
        scheduledAt: '2026-12-02T03:00:00.000Z',
        status: 'FAILED',
        actor: 'system:scheduler',
      }),
    );
    const mails = await db.dataSource.query('SELECT recipients, payload FROM notification_emails WHERE event_id = $1', [
      failed.id,
    ]);
    expect(mails).toHaveLength(1);
    expect(mails[0].recipients).toEqual(['owner@example.com', 'ops@example.com']);
    expect((mails[0].payload as NotificationPayload).data).toMatchObject({
      status: 'failed',
      error: 'quota',
      actor: 'system:scheduler',
      policy: { id: '01a23400-0000-7000-8000-0000000000aa', name: 'nightly' },
      scheduledAt: '2026-12-02T03:00:00.000Z',
    });
    expect((mails[0].payload as NotificationPayload).data.details).not.toHaveProperty('notify');
    const completed = await db.transaction((tx) => record(tx, org, 'snapshot.completed'));
    expect(await db.dataSource.query('SELECT 1 FROM notification_emails WHERE event_id = $1', [completed.id])).toEqual(
      [],
    );
  });

  it('records quota.exceeded with its outbox rows after the refused request rolls back; the error is unchanged', async () => {
    const org = await organization();
    await webhook(org, receiver.url, ['quota.exceeded']);
    await db.repos.organizations.setLimits(org, { snapshots: 0 });
    const error = await db
      .transaction(async (tx) => {
        await tx.environments.create(org, 'made-then-rolled-back');
        await enforceLimits(tx, org, { snapshots: 1 }, { actor: 'system:scheduler' });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCode.QUOTA_EXCEEDED);
    expect(Object.keys((error as DomainError).details!)).toEqual(['resource', 'limit', 'used', 'requested']);
    expect(await db.repos.environments.list({ kind: 'organization', organizationId: org }, {})).toMatchObject({
      items: [],
    });
    const [delivery] = await db.dataSource.query<Array<{ payload: NotificationPayload }>>(
      "SELECT payload FROM webhook_deliveries WHERE organization_id = $1 AND event_type = 'quota.exceeded'",
      [org],
    );
    expect(delivery.payload.data).toMatchObject({
      actor: 'system:scheduler',
      status: 'refused',
      resource: { type: 'Organization', id: org },
      details: { resource: 'snapshots', limit: 0, used: 0, requested: 1 },
    });
  });

  it('delivers a signed body the receiver verifies with the secret', async () => {
    const org = await organization();
    await webhook(org);
    const event = await db.transaction((tx) => record(tx, org));
    const row = await drainUntilSettled(new OutboxDrainer(db, options(), null), event.id);
    expect(row).toMatchObject({ status: OutboxStatus.SUCCEEDED, attempts: 1, responseStatus: 200 });
    expect(receiver.received).toHaveLength(1);
    const { headers, body } = receiver.received[0];
    const header = headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(verifySignature(secret, body, header, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifySignature('whsec_wrong', body, header, Math.floor(Date.now() / 1000))).toBe(false);
    expect(JSON.parse(body)).toMatchObject({ id: event.id, type: 'snapshot.completed', organizationId: org });
    expect(JSON.parse(body).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('retries after a 500 and succeeds on the next attempt', async () => {
    const org = await organization();
    await webhook(org);
    receiver.answer = (_request, index) => ({ status: index === 0 ? 500 : 204 });
    const event = await db.transaction((tx) => record(tx, org));
    const row = await drainUntilSettled(new OutboxDrainer(db, options(), null), event.id);
    expect(row).toMatchObject({ status: OutboxStatus.SUCCEEDED, attempts: 2, responseStatus: 204, lastError: null });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0].body).toBe(receiver.received[1].body);
  });

  it('gives up (FAILED) once the retry bound is passed, with the last answer and error kept', async () => {
    const org = await organization();
    await webhook(org);
    receiver.answer = () => ({ status: 503 });
    const event = await db.transaction((tx) => record(tx, org));
    const drainer = new OutboxDrainer(db, options({ retry: { baseMs: 1, maxMs: 1, giveUpAfterMs: 0 } }), null);
    const row = await drainUntilSettled(drainer, event.id);
    expect(row).toMatchObject({
      status: OutboxStatus.FAILED,
      attempts: 1,
      responseStatus: 503,
      lastError: 'answered 503',
    });
  });

  it('counts a redirect as a failed attempt and never follows it', async () => {
    const org = await organization();
    const elsewhere = await startReceiver();
    try {
      await webhook(org);
      receiver.answer = () => ({ status: 302, headers: { location: elsewhere.url } });
      const event = await db.transaction((tx) => record(tx, org));
      const drainer = new OutboxDrainer(db, options({ retry: { baseMs: 1, maxMs: 1, giveUpAfterMs: 0 } }), null);
      const row = await drainUntilSettled(drainer, event.id);
      expect(row).toMatchObject({ status: OutboxStatus.FAILED, responseStatus: 302 });
      expect(row.lastError).toMatch(/redirect/);
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('refuses a private target at delivery unless allowed, without connecting to it', async () => {
    const org = await organization();
    await webhook(org, receiver.url.replace('127.0.0.1', 'localhost'));
    const event = await db.transaction((tx) => record(tx, org));
    const drainer = new OutboxDrainer(
      db,
      options({ allowPrivateAddresses: false, retry: { baseMs: 1, maxMs: 1, giveUpAfterMs: 0 } }),
      null,
    );
    const row = await drainUntilSettled(drainer, event.id);
    expect(row.status).toBe(OutboxStatus.FAILED);
    expect(row.lastError).toMatch(/loopback address \(refused\)/);
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses private targets at creation: BAD_USER_INPUT naming url', async () => {
    for (const url of [
      'http://localhost:8080/',
      'http://127.0.0.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://10.0.0.5/',
      'http://169.254.169.254/latest/meta-data',
      'ftp://example.com/',
      'not a url',
      'http://user:pass@example.com/',
    ]) {
      const error = await checkWebhookUrlInput(url, false).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'url' } });
    }
    await expect(checkWebhookUrlInput('http://localhost:8080/', true)).resolves.toMatchObject({
      address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/),
    });
  });

  it('two drainers at once never send one row twice', async () => {
    const org = await organization();
    await webhook(org);
    const events = [];
    for (let i = 0; i < 40; i++) events.push(await db.transaction((tx) => record(tx, org)));
    const a = new OutboxDrainer(db, options({ batchSize: 3 }), null);
    const b = new OutboxDrainer(db, options({ batchSize: 3 }), null);
    await Promise.all([a.drain(), b.drain(), a.drain(), b.drain()]);
    const ids = receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
    const rows = await db.dataSource.query<Array<{ status: string; attempts: number }>>(
      'SELECT status, attempts FROM webhook_deliveries WHERE organization_id = $1',
      [org],
    );
    expect(rows.every((r) => r.status === 'SUCCEEDED' && r.attempts === 1)).toBe(true);
  });

  it('sends again a row whose worker died after claiming it (its lease ran out): at least once', async () => {
    const org = await organization();
    await webhook(org);
    const event = await db.transaction((tx) => record(tx, org));
    // A worker claims with no lease left and "dies" before sending.
    const claimed = await db.repos.outbox.claimDue('webhook', 100, 0);
    expect(claimed.map((c) => c.eventId)).toContain(event.id);
    const row = await drainUntilSettled(new OutboxDrainer(db, options(), null), event.id);
    expect(row).toMatchObject({ status: OutboxStatus.SUCCEEDED, attempts: 2 });
    // The dead worker's late word does not count over the attempt that delivered.
    const mine = claimed.find((c) => c.eventId === event.id)!;
    expect(await db.repos.outbox.settle('webhook', mine.id, mine.attempts, { kind: 'failed', error: 'late' })).toBe(
      false,
    );
  });

  it('marks mail SKIPPED without SMTP, and SUCCEEDED through a sender that accepts it', async () => {
    const org = await organization();
    await db.repos.organizations.setNotificationSettings(org, { emails: ['ops@example.com'], events: [] });
    const skipped = await db.transaction((tx) => record(tx, org, 'snapshot.failed'));
    await new OutboxDrainer(db, options(), null).drain();
    const sent: Array<{ to: readonly string[]; id: string }> = [];
    const mail: MailSender = { send: (to, payload) => Promise.resolve(void sent.push({ to, id: payload.id })) };
    const delivered = await db.transaction((tx) => record(tx, org, 'snapshot.failed'));
    await new OutboxDrainer(db, options(), mail).drain();
    const status = async (eventId: string) =>
      (
        await db.dataSource.query<Array<{ status: string }>>(
          'SELECT status FROM notification_emails WHERE event_id = $1',
          [eventId],
        )
      )[0].status;
    expect(await status(skipped.id)).toBe('SKIPPED');
    expect(await status(delivered.id)).toBe('SUCCEEDED');
    expect(sent).toEqual([{ to: ['ops@example.com'], id: delivered.id }]);
  });
});
