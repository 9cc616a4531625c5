/**
 * A snapshot policy refused by the organization's snapshot limit, on the real stack: the SMTP server gets the
 * mail for the policy's notify address, a loopback receiver a signed policy.run.failed delivery, the policy says
 * FAILED naming the limit, no snapshot is taken, and the failed runs stay within occurrences × (1 + retries).
 */
import { describeWith, startReceiver, type TestReceiver } from '@snapdeck/testing';
import { createInstance } from './support/flows.js';
import { eventually, mustQuery } from './support/graphql-client.js';
import { startMailbox, verifySignature, type Mailbox } from './support/notification-peers.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

const MAX_RETRIES = 1;

describeWith(['redis', 'qemu-img'], 'policy run failures notify by mail and webhook', () => {
  let stack: Stack;
  let receiver: TestReceiver;
  let mailbox: Mailbox;
  let tenant: Tenant;

  beforeAll(async () => {
    receiver = await startReceiver();
    mailbox = await startMailbox();
    stack = await startStack({
      agents: ['kvm-pn'],
      apiEnv: {
        POLICY_MIN_INTERVAL_SECONDS: '1',
        POLICY_MAX_RETRIES: String(MAX_RETRIES),
        POLICY_RETRY_BASE_SECONDS: '1',
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        SMTP_URL: mailbox.url,
        NOTIFY_FROM: 'Snapdeck <alerts@snapdeck.test>',
        NOTIFY_POLL_MS: '100',
      },
    });
    tenant = await createTenant(stack);
  }, 60000);

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
    await mailbox?.close();
  });

  it('mails, delivers signed policy.run.failed, marks FAILED, takes no snapshot, and stops retrying', async () => {
    const { createWebhook } = await mustQuery(
      stack.url,
      tenant.tokens.ORG_ADMIN,
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } secret } }`,
      { input: { url: receiver.url, events: ['policy.run.failed'] } },
    );
    await mustQuery(
      stack.url,
      stack.adminToken,
      `mutation($input: SetOrganizationLimitsInput!) { setOrganizationLimits(input: $input) { organization { id } } }`,
      { input: { organizationId: tenant.organizationId, snapshots: 0 } },
    );
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'pn-1',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const { createSnapshotPolicy } = await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `mutation($input: CreateSnapshotPolicyInput!) { createSnapshotPolicy(input: $input) { snapshotPolicy { id } } }`,
      {
        input: {
          volumeId: root.id,
          schedule: '*/2 * * * * *',
          timezone: 'UTC',
          keep: 2,
          notify: ['owner@example.test'],
        },
      },
    );
    const policyId: string = createSnapshotPolicy.snapshotPolicy.id;

    const mail = await eventually(
      () => Promise.resolve(mailbox.mails.find((m) => m.to.includes('owner@example.test'))),
      30000,
      'the policy failure mail',
    );
    expect(mail.raw).toMatch(/^Subject: \[Snapdeck\] Scheduled snapshot failed/m);
    expect(mail.raw).toContain(policyId);
    expect(mail.raw).toContain(root.id);
    expect(mail.raw).toMatch(/Error: +.*snapshots limit is 0/);

    const delivery = await eventually(
      () => Promise.resolve(receiver.received.find((r) => r.body.includes('"policy.run.failed"'))),
      30000,
      'the policy.run.failed delivery',
    );
    expect(verifySignature(createWebhook.secret, delivery.body, delivery.headers['snapdeck-signature'] as string)).toBe(
      true,
    );
    expect(verifySignature('whsec_wrong', delivery.body, delivery.headers['snapdeck-signature'] as string)).toBe(false);
    const body = JSON.parse(delivery.body) as Record<string, any>;
    expect(Object.keys(body).sort()).toEqual(['data', 'id', 'organizationId', 'time', 'type']);
    expect(body).toMatchObject({ type: 'policy.run.failed', organizationId: tenant.organizationId });
    expect(JSON.stringify(body.data)).toContain(policyId);
    expect(new Date(body.data.scheduledAt as string).toISOString()).toBe(body.data.scheduledAt);
    expect(body.data.error).toMatch(/snapshots limit is 0/);

    const policyQuery = `query($id: ID!) { node(id: $id) { ... on SnapshotPolicy { lastStatus lastError } } }`;
    const { node } = await mustQuery(stack.url, tenant.tokens.READ_ONLY, policyQuery, { id: policyId });
    expect(node.lastStatus).toBe('FAILED');
    expect(node.lastError).toMatch(/snapshots limit is 0/);

    // A few occurrences later: the failed runs are bounded by occurrences × (1 + retries).
    const failures = async () => {
      const { events } = await mustQuery(
        stack.url,
        tenant.tokens.READ_ONLY,
        `query($id: ID!) { events(filter: { resourceId: $id }, first: 100) { edges { node { type details } } } }`,
        { id: policyId },
      );
      return (events.edges as Array<{ node: { type: string; details: { scheduledAt?: string } } }>)
        .map((e) => e.node)
        .filter((n) => n.type === 'POLICY_RUN_FAILED');
    };
    const settled = await eventually(
      async () => {
        const failed = await failures();
        return new Set(failed.map((f) => f.details.scheduledAt)).size >= 3 ? failed : null;
      },
      40000,
      'three failed occurrences',
    );
    await mustQuery(
      stack.url,
      tenant.tokens.MEMBER,
      `mutation($input: UpdateSnapshotPolicyInput!) { updateSnapshotPolicy(input: $input) { snapshotPolicy { id } } }`,
      { input: { snapshotPolicyId: policyId, enabled: false } },
    );
    const occurrences = new Set(settled.map((f) => f.details.scheduledAt)).size;
    expect(settled.length).toBeLessThanOrEqual(occurrences * (1 + MAX_RETRIES));
    const { snapshots } = await mustQuery(
      stack.url,
      tenant.tokens.READ_ONLY,
      `query($v: ID!) { snapshots(filter: { volumeId: $v }, first: 10) { totalCount } }`,
      { v: root.id },
    );
    expect(snapshots.totalCount).toBe(0);
  }, 120000);
});
