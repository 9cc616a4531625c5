/**
 * Notifications on the real stack (api + qemu-img agent, PostgreSQL, Redis): a webhook receiver on loopback
 * gets a signed snapshot.completed delivery it verifies with the secret createWebhook answered, the delivery log
 * shows it, and a real SMTP server (smtp-server) receives the mail of a request refused by a limit for the
 * address the organization's settings name. Loopback targets need WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true.
 */
import { describeWith, startReceiver, type TestReceiver } from '@snapdeck/testing';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import smtpServer from 'smtp-server';
import { eventually, graphql, mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const unique = () => randomBytes(4).toString('hex');
const codesOf = (r: GraphQLResponse<unknown>) => (r.errors ?? []).map((e) => e.extensions?.code ?? 'NONE');

const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { webhook { id url events enabled createdAt } secret }
}`;
const DELIVERIES = `query($id: ID!) {
  webhookDeliveries(webhookId: $id, first: 10) {
    totalCount edges { node { id event eventId status attempts responseStatus lastError createdAt } }
  }
}`;
const CREATE_SNAPSHOT = `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id } } }`;

interface ReceivedMail {
  to: string[];
  raw: string;
}

/** The text of a message as nodemailer wrote it (quoted-printable: soft line breaks and =XX escapes). */
function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** What a receiver does with Snapdeck-Signature (the snippet in docs/api-guide.md). */
function verify(secret: string, rawBody: string, header: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return (
    given.length === expected.length &&
    timingSafeEqual(given, expected) &&
    Math.abs(Date.now() / 1000 - Number(parts.t)) < 300
  );
}

describeWith(['redis', 'qemu-img'], 'notifications (webhooks and e-mail)', () => {
  let stack: Stack;
  let receiver: TestReceiver;
  let smtp: InstanceType<typeof smtpServer.SMTPServer>;
  const mails: ReceivedMail[] = [];
  let tenant: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    receiver = await startReceiver();
    smtp = new smtpServer.SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: decodeQuotedPrintable(Buffer.concat(chunks).toString()),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    stack = await startStack({
      agents: ['kvm-1'],
      apiEnv: {
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        NOTIFY_FROM: 'Snapdeck <alerts@snapdeck.test>',
        NOTIFY_POLL_MS: '100',
      },
    });
    tenant = await createTenant(stack, `ntf-${unique()}`);
    other = await createTenant(stack, `ntf-other-${unique()}`);
  }, 60000);

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  it('delivers a signed snapshot.completed the receiver verifies, and logs it', async () => {
    const bad = await graphql(stack.url, tenant.tokens.ORG_ADMIN, CREATE_WEBHOOK, {
      input: { url: receiver.url, events: ['snapshot.completed', 'snapshot.exploded'] },
    });
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0].extensions?.field).toBe('events');
    const asMember = await graphql(stack.url, tenant.tokens.MEMBER, CREATE_WEBHOOK, { input: { url: receiver.url } });
    expect(codesOf(asMember)).toEqual(['FORBIDDEN']);

    const { createWebhook } = await mustQuery<{
      createWebhook: { webhook: { id: string; events: string[]; enabled: boolean }; secret: string };
    }>(stack.url, tenant.tokens.ORG_ADMIN, CREATE_WEBHOOK, {
      input: { url: receiver.url, events: ['snapshot.deleted', 'snapshot.completed'] },
    });
    expect(createWebhook.webhook).toMatchObject({ events: ['snapshot.completed', 'snapshot.deleted'], enabled: true });
    const { id: webhookId } = createWebhook.webhook;

    // Another organization's administrator cannot see or delete it.
    const foreign = await graphql(stack.url, other.tokens.ORG_ADMIN, DELIVERIES, { id: webhookId });
    expect(codesOf(foreign)).toEqual(['NOT_FOUND']);
    const foreignDelete = await graphql(
      stack.url,
      other.tokens.ORG_ADMIN,
      `
        mutation ($id: ID!) {
          deleteWebhook(input: { webhookId: $id }) {
            webhook {
              id
            }
          }
        }
      `,
      { id: webhookId },
    );
    expect(codesOf(foreignDelete)).toEqual(['NOT_FOUND']);
    const node = await mustQuery<{ node: unknown }>(
      stack.url,
      other.tokens.ORG_ADMIN,
      `query($id: ID!) { node(id: $id) { id } }`,
      {
        id: webhookId,
      },
    );
    expect(node.node).toBeNull();

    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: `web-${unique()}`,
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string } } }>(
      stack.url,
      tenant.tokens.MEMBER,
      CREATE_SNAPSHOT,
      { v: root.id },
    );
    const snapshot = await waitForSnapshot(stack, tenant.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');

    const delivery = await eventually(
      () => Promise.resolve(receiver.received.find((r) => r.body.includes(createSnapshot.snapshot.id))),
      20000,
      'the webhook delivery',
    );
    const header = delivery.headers['snapdeck-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(createWebhook.secret, delivery.body, header)).toBe(true);
    expect(verify('whsec_not-the-secret', delivery.body, header)).toBe(false);
    const body = JSON.parse(delivery.body) as Record<string, any>;
    expect(body).toMatchObject({
      type: 'snapshot.completed',
      organizationId: tenant.organizationId,
      data: {
        actor: tenant.userIds.MEMBER,
        status: 'succeeded',
        error: null,
        resource: { type: 'Snapshot', id: snapshot.id, name: snapshot.name },
        volume: { id: root.id, name: root.name },
        instance: { id: instance.id, name: instance.name },
      },
    });
    expect(new Date(body.time as string).toISOString()).toBe(body.time);

    // Only the types it asked for: the instance's creation and such never arrive.
    expect(receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual(['snapshot.completed']);

    // A deleted snapshot is still named: the body was frozen while the row existed.
    await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `mutation($id: ID!) { deleteSnapshot(input: { snapshotId: $id }) { snapshot { id } } }`,
      { id: snapshot.id },
    );
    const deletion = await eventually(
      () => Promise.resolve(receiver.received.find((r) => r.body.includes('"snapshot.deleted"'))),
      20000,
      'the snapshot.deleted delivery',
    );
    expect(verify(createWebhook.secret, deletion.body, deletion.headers['snapdeck-signature'] as string)).toBe(true);
    expect(JSON.parse(deletion.body)).toMatchObject({
      data: { resource: { type: 'Snapshot', id: snapshot.id, name: snapshot.name }, volume: { name: root.name } },
    });

    const log = await eventually(
      async () => {
        const { webhookDeliveries } = await mustQuery<{
          webhookDeliveries: { totalCount: number; edges: Array<{ node: Record<string, unknown> }> };
        }>(stack.url, tenant.tokens.ORG_ADMIN, DELIVERIES, { id: webhookId });
        const row = webhookDeliveries.edges.find((e) => e.node.eventId === body.id)?.node;
        return row?.status === 'SUCCEEDED' ? row : null;
      },
      10000,
      'the delivery log to say SUCCEEDED',
    );
    expect(log).toMatchObject({ event: 'snapshot.completed', attempts: 1, responseStatus: 200, lastError: null });

    const { webhooks } = await mustQuery<{ webhooks: { edges: Array<{ node: { id: string } }> } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      '{ webhooks { edges { node { id } } } }',
    );
    expect(webhooks.edges.map((e) => e.node.id)).toEqual([webhookId]);
    const deleted = await mustQuery<{ deleteWebhook: { webhook: { id: string } } }>(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      `mutation($id: ID!) { deleteWebhook(input: { webhookId: $id }) { webhook { id } } }`,
      { id: webhookId },
    );
    expect(deleted.deleteWebhook.webhook.id).toBe(webhookId);
  }, 90000);

  it('mails the addresses of the organization settings when a request hits a limit', async () => {
    const update = `mutation($input: UpdateNotificationSettingsInput!) {
      updateNotificationSettings(input: $input) { organization { id notificationSettings { emails events } } }
    }`;
    const badMail = await graphql(stack.url, tenant.tokens.ORG_ADMIN, update, { input: { emails: ['not-mail'] } });
    expect(codesOf(badMail)).toEqual(['BAD_USER_INPUT']);
    expect(badMail.errors![0].extensions?.field).toBe('emails');
    const asMember = await graphql(stack.url, tenant.tokens.MEMBER, update, { input: { emails: ['a@b.test'] } });
    expect(codesOf(asMember)).toEqual(['FORBIDDEN']);
    const { updateNotificationSettings } = await mustQuery<{
      updateNotificationSettings: { organization: { notificationSettings: { emails: string[]; events: string[] } } };
    }>(stack.url, tenant.tokens.ORG_ADMIN, update, {
      input: { emails: ['Ops@Example.test'], events: ['quota.exceeded', 'snapshot.failed'] },
    });
    expect(updateNotificationSettings.organization.notificationSettings).toEqual({
      emails: ['ops@example.test'],
      events: ['snapshot.failed', 'quota.exceeded'],
    });

    await mustQuery(
      stack.url,
      stack.adminToken,
      `mutation($input: SetOrganizationLimitsInput!) { setOrganizationLimits(input: $input) { organization { id } } }`,
      { input: { organizationId: tenant.organizationId, snapshots: 0 } },
    );
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: `db-${unique()}`,
    });
    const refused = await graphql(stack.url, tenant.tokens.MEMBER, CREATE_SNAPSHOT, { v: instance.volumes[0].id });
    expect(codesOf(refused)).toEqual(['QUOTA_EXCEEDED']);
    expect(refused.errors![0].extensions).toMatchObject({ resource: 'snapshots', limit: 0, requested: 1 });

    const mail = await eventually(
      () => Promise.resolve(mails.find((m) => m.to.includes('ops@example.test'))),
      20000,
      'the mail',
    );
    expect(mail.raw).toMatch(/^From: Snapdeck <alerts@snapdeck\.test>/m);
    expect(mail.raw).toMatch(/^Subject: \[Snapdeck\] Request refused: limit reached/m);
    expect(mail.raw).toContain(`Instance:     ${instance.name} (${instance.id})`);
    expect(mail.raw).toContain("Error:        The organization's snapshots limit is 0");
    expect(mail.raw).toContain(`By:           ${tenant.userIds.MEMBER}`);
  }, 90000);
});
