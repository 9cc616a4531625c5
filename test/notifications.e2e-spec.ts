/**
 * Notifications on the real stack (api + qemu-img agent, PostgreSQL, Redis): a webhook receiver on loopback
 * gets a signed snapshot.completed delivery it verifies with the secret createWebhook answered, the delivery log
 * shows it, and a real SMTP server (smtp-server) receives the mail of a request refused by a limit for the
 * address the organization's settings name. Loopback targets need WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true.
 */
import { describeWith, startReceiver, type TestReceiver } from '@snapdeck/testing';
import { randomBytes } from 'node:crypto';
import { eventually, graphql, mustQuery, type GraphQLResponse } from './support/graphql-client.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { startMailbox, verifySignature, type Mailbox } from './support/notification-peers.js';
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

describeWith(['redis', 'qemu-img'], 'notifications (webhooks and e-mail)', () => {
  let stack: Stack;
  let receiver: TestReceiver;
  let mailbox: Mailbox;
  let tenant: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    receiver = await startReceiver();
    mailbox = await startMailbox();
    stack = await startStack({
      agents: ['kvm-1'],
      apiEnv: {
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        SMTP_URL: mailbox.url,
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
    await mailbox?.close();
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
    expect(verifySignature(createWebhook.secret, delivery.body, header)).toBe(true);
    expect(verifySignature('whsec_not-the-secret', delivery.body, header)).toBe(false);
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
    expect(verifySignature(createWebhook.secret, deletion.body, deletion.headers['snapdeck-signature'] as string)).toBe(
      true,
    );
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
      () => Promise.resolve(mailbox.mails.find((m) => m.to.includes('ops@example.test'))),
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
