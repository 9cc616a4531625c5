import { describeWith } from '@snapdeck/testing';
import { randomBytes } from 'node:crypto';
import { eventually } from './support/graphql-client.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

type Line = Record<string, unknown> & { level: string; time: string; msg: string; context?: string };

const CREATE =
  'mutation($input: CreateSnapshotInput!) { createSnapshot(input: $input) { snapshot { id } job { id } } }';

describeWith(['redis', 'qemu-img'], 'following one snapshot through the logs of the api and the agent', () => {
  const raw: string[] = [];
  const lines = (): Line[] => raw.map((line) => JSON.parse(line) as Line);
  let stack: Stack;
  let tenant: Tenant;

  beforeAll(async () => {
    // The api and the agent run in this process and write to one stream, as two processes would to one collector.
    stack = await startStack({ agents: ['kvm-log'], logDestination: { write: (line: string) => void raw.push(line) } });
    tenant = await createTenant(stack);
  });
  afterAll(() => stack?.close());

  it('ties the mutation’s reqId to the jobId, and the jobId to the agent’s lines and the applied result', async () => {
    const instance = await createInstance(stack, tenant.tokens.MEMBER, {
      environmentId: tenant.environmentId,
      name: 'logged-1',
    });
    const root = instance.volumes.find((v) => v.type === 'ROOT')!;
    const requestId = `e2e-${randomBytes(6).toString('hex')}`;
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tenant.tokens.MEMBER}`,
        'x-request-id': requestId,
      },
      body: JSON.stringify({ query: CREATE, variables: { input: { volumeId: root.id, name: 'followed' } } }),
    });
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const { data } = (await response.json()) as {
      data: { createSnapshot: { snapshot: { id: string }; job: { id: string } } };
    };
    const snapshotId = data.createSnapshot.snapshot.id;
    const jobId = data.createSnapshot.job.id;
    await waitForSnapshot(stack, tenant.tokens.MEMBER, snapshotId, 'COMPLETED');
    // The result's line is written just after its transaction commits, which the query above may beat.
    await eventually(async () => lines().some((l) => l.jobId === jobId && l.context === 'JobResultsService'));

    const followed = lines().filter((line) => line.jobId === jobId);
    // One stream, two writers: the api's "sent" line and the agent's "started" line race each other (the agent
    // may take the job before the api's next line), as do the agent's last line and the api's applying the result.
    expect(followed.map((line) => line.context).sort()).toEqual(
      ['JobLauncher', 'JobResultsService', 'JobRunner', 'JobRunner'].sort(),
    );
    const sent = followed.find((line) => line.context === 'JobLauncher')!;
    const [started, finished] = followed.filter((line) => line.context === 'JobRunner');
    const applied = followed.find((line) => line.context === 'JobResultsService')!;
    // Each writer's own lines are in order.
    expect(followed.indexOf(sent)).toBeLessThan(followed.indexOf(applied));
    // api, inside the mutation: the request id, the job, the host and the resources.
    expect(sent).toMatchObject({
      level: 'info',
      reqId: requestId,
      jobName: 'create-snapshot',
      attempt: 1,
      host: 'kvm-log',
      resourceType: 'Snapshot',
      resourceId: snapshotId,
      snapshotId,
      volumeId: root.id,
    });
    // agent: every line about the job carries jobId and attempt as fields.
    for (const line of [started, finished]) {
      expect(line).toMatchObject({ level: 'info', attempt: 1, jobName: 'create-snapshot', host: 'kvm-log' });
      expect(line).not.toHaveProperty('reqId');
    }
    expect(started.msg).toContain('started');
    expect(finished.msg).toContain('succeeded');
    // api, applying the agent's report.
    expect(applied).toMatchObject({ level: 'info', status: 'SUCCEEDED', snapshotId, resourceId: snapshotId });

    // The request itself: its lines share the reqId, and one closes it.
    const request = lines().filter((line) => line.reqId === requestId);
    expect(request.map((line) => line.msg)).toContain('request completed');
    expect(request.every((line) => line.jobId === undefined || line.jobId === jobId)).toBe(true);
  });

  it('writes every line as JSON with level, time and msg, and never a bearer token', () => {
    for (const line of lines()) {
      expect(['debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      expect(typeof line.msg).toBe('string');
    }
    const all = raw.join('');
    for (const token of [stack.adminToken, ...Object.values(tenant.tokens)]) expect(all).not.toContain(token);
  });
});
