import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadAgentConfig, loadApiConfig } from '@snapdeck/config';
import { InProcessBus } from '@snapdeck/transport';
import { createTestDatabase, describeWith } from '@snapdeck/testing';
import { startAgent } from '@snapdeck/agent';
import { startApi } from '@snapdeck/api';
import { eventually, graphql, mustQuery } from './support/graphql-client.js';
import { createInstance, waitForSnapshot } from './support/flows.js';
import type { Stack } from './support/stack.js';
import { Collected, connect } from './support/subscriptions.js';
import { createTenant } from './support/tenants.js';

const run = promisify(execFile);
const MAIN = resolve(import.meta.dirname, '../apps/all-in-one/dist/main.js');

/** One `npm start` (the built all-in-one process) on a state folder, with no DATABASE_URL and no REDIS_URL. */
class AllInOne {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly home: string,
    extraEnv: Record<string, string> = {},
  ) {
    const env: NodeJS.ProcessEnv = { ...process.env, SNAPDECK_HOME: home, PORT: '0', ...extraEnv };
    // NODE_ENV too (jest sets it to test): `npm start` as a user runs it, with its own default.
    for (const name of [
      'DATABASE_URL',
      'REDIS_URL',
      'SNAPDECK_ADMIN_TOKEN',
      'AGENT_STORAGE_DIR',
      'QUEUE_PREFIX',
      'NODE_ENV',
    ])
      delete env[name];
    this.child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!])
      stream.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get text(): string {
    return this.output.join('');
  }

  /** Ready once the lock file advertises the GraphQL URL, the demo token is written and /health answers. */
  async ready(timeoutMs = 60_000): Promise<{ url: string; demoToken: string; adminToken: string }> {
    const started = Date.now();
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    const found = await eventually(
      async () => {
        if (exitCode !== undefined) throw new Error(`npm start exited (${exitCode}):\n${this.text}`);
        const lock = await readFile(join(this.home, 'snapdeck.pid'), 'utf8').catch(() => '');
        const graphqlUrl = lock ? (JSON.parse(lock) as { graphqlUrl?: string }).graphqlUrl : undefined;
        const demoToken = await readFile(join(this.home, 'demo-token'), 'utf8').catch(() => '');
        if (!graphqlUrl || !demoToken) return null;
        const url = graphqlUrl.replace(/\/graphql$/, '');
        const health = await fetch(`${url}/health`).catch(() => null);
        return health?.ok ? { url, demoToken: demoToken.trim() } : null;
      },
      timeoutMs,
      'the all-in-one process to be healthy',
    );
    const adminToken = (await readFile(join(this.home, 'admin-token'), 'utf8')).trim();
    process.stdout.write(`all-in-one: healthy ${Date.now() - started} ms after spawn\n`);
    return { ...found, adminToken };
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

async function postgresRunning(home: string): Promise<boolean> {
  return access(join(home, 'postgres', 'postmaster.pid')).then(
    () => true,
    () => false,
  );
}

async function snapshotTags(image: string): Promise<string> {
  return (await run('qemu-img', ['snapshot', '-l', '-U', image])).stdout;
}

describeWith(['qemu-img'], 'npm start: the all-in-one process (embedded PostgreSQL, in-process jobs, qemu-img)', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'snapdeck-all-in-one-'));
    // As root the embedded server runs as postgres, which must reach the folder (mkdtemp makes it 0700).
    await chmod(home, 0o755);
  });
  // One story, in order: each step starts from the state the previous one left.
  let first: AllInOne | undefined;
  let rootVolumeId: string;
  let snapshotId: string;
  let demoToken: string;

  afterAll(async () => {
    // A failed step must not leave a process or its database server behind.
    if (first) {
      first.signal('SIGTERM');
      await first.exited;
    }
    await rm(home, { recursive: true, force: true });
  });

  it('first start: creates the demo tenant, and a snapshot reaches COMPLETED on a real qcow2 image', async () => {
    first = new AllInOne(home);
    const { url, demoToken: token } = await first.ready();
    demoToken = token;
    expect(first.text).toMatch(/embedded PostgreSQL/);
    expect(first.text).toMatch(/in-process/);
    // Bearer secrets stay out of the log stream (stdout here is a pipe, not a terminal): only where they are kept.
    expect(first.text).not.toContain(token);
    expect(first.text).toContain(join(home, 'demo-token'));

    // Production unless NODE_ENV says otherwise: no schema hints, no stack traces; GraphiQL from the packages.
    expect(first.text).toMatch(/mode: production/);
    expect(first.text).toContain(`GraphiQL: ${url.replace('127.0.0.1', 'localhost')}/graphiql`);
    const typo = await graphql(url, token, '{ viewr { user { id } } }');
    expect(typo.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(typo)).not.toMatch(/Did you mean|stacktrace/);
    const graphiql = await fetch(`${url}/graphiql`);
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toContain('/graphiql/assets/graphiql.min.js');

    const stack = { url } as Stack;
    const { createEnvironment } = await mustQuery<{ createEnvironment: { environment: { id: string } } }>(
      url,
      token,
      'mutation { createEnvironment(input: {name: "demo-env"}) { environment { id } } }',
    );
    const instance = await createInstance(stack, token, {
      environmentId: createEnvironment.environment.id,
      name: 'web-1',
    });
    rootVolumeId = instance.volumes.find((v) => v.type === 'ROOT')!.id;
    const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string } } }>(
      url,
      token,
      'mutation($v: ID!) { createSnapshot(input: {volumeId: $v}) { snapshot { id } } }',
      { v: rootVolumeId },
    );
    snapshotId = createSnapshot.snapshot.id;
    await waitForSnapshot(stack, token, snapshotId, 'COMPLETED');
    expect(await snapshotTags(join(home, 'primary', 'volumes', `${rootVolumeId}.qcow2`))).toContain(snapshotId);
  });

  it('a second start on the same folder says one is running, and leaves the first alone', async () => {
    const second = new AllInOne(home);
    expect(await second.exited).toBe(1);
    expect(second.text).toMatch(/already running from this folder \(pid \d+/);
    expect(await postgresRunning(home)).toBe(true);
  });

  it('Ctrl-C stops the process and the embedded database cleanly', async () => {
    first!.signal('SIGINT');
    expect(await first!.exited).toBe(0);
    first = undefined;
    expect(await postgresRunning(home)).toBe(false);
    await expect(access(join(home, 'snapdeck.pid'))).rejects.toThrow(/ENOENT/);
  });

  it('a restart keeps every row and image, and takes new snapshots', async () => {
    first = new AllInOne(home);
    const { url, demoToken: token } = await first.ready();
    expect(token).toBe(demoToken);
    expect(first.text).not.toMatch(/demo organization created/);
    const stack = { url } as Stack;
    await waitForSnapshot(stack, token, snapshotId, 'COMPLETED');
    const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string }; job: { id: string } } }>(
      url,
      token,
      'mutation($v: ID!) { createSnapshot(input: {volumeId: $v, name: "after-restart"}) { snapshot { id } job { id } } }',
      { v: rootVolumeId },
    );
    // Subscriptions work without Redis too (in-memory pub/sub): the job's updates arrive until it succeeds.
    const { client } = connect(url, { authorization: `Bearer ${token}` });
    try {
      const updates = new Collected<{ status: string }>(
        client,
        'subscription($id: ID!) { jobUpdated(id: $id) { status } }',
        {
          id: createSnapshot.job.id,
        },
      );
      await updates.ended;
      expect(updates.errors).toEqual([]);
      expect(updates.events.at(-1)).toEqual({ status: 'SUCCEEDED' });
    } finally {
      await client.dispose();
    }
    await waitForSnapshot(stack, token, createSnapshot.snapshot.id, 'COMPLETED');
    const tags = await snapshotTags(join(home, 'primary', 'volumes', `${rootVolumeId}.qcow2`));
    expect(tags).toContain(snapshotId);
    expect(tags).toContain(createSnapshot.snapshot.id);
  });

  it('after a kill -9 the next start takes over the stale lock and the orphaned database', async () => {
    first!.signal('SIGKILL');
    await first!.exited;
    first = undefined;
    // The server was started in a session of its own: it outlives the killed process.
    expect(await postgresRunning(home)).toBe(true);
    const next = new AllInOne(home);
    first = next;
    const { url } = await next.ready();
    await waitForSnapshot({ url } as Stack, demoToken, snapshotId, 'COMPLETED');
    next.signal('SIGTERM');
    expect(await next.exited).toBe(0);
    first = undefined;
    expect(await postgresRunning(home)).toBe(false);
  });

  it('Ctrl-C during start-up stops it once it is up, database included', async () => {
    const starting = new AllInOne(home);
    first = starting;
    await eventually(
      () =>
        access(join(home, 'snapdeck.pid')).then(
          () => true,
          () => false,
        ),
      30_000,
      'the start to take the folder',
    );
    starting.signal('SIGINT');
    expect(await starting.exited).toBe(0);
    first = undefined;
    expect(starting.text).toMatch(/stopping as soon as start-up has finished|stopping — running jobs finish first/);
    expect(await postgresRunning(home)).toBe(false);
  });
});

describeWith(['qemu-img'], 'in-process jobs: nothing is lost with the memory that carried them', () => {
  it('a delivery lost with the process is sent again by the next one, and the snapshot completes', async () => {
    const database = await createTestDatabase();
    const root = await mkdtemp(join(tmpdir(), 'snapdeck-in-process-'));
    const adminToken = `test-admin-${randomBytes(16).toString('hex')}`;
    const apiConfig = loadApiConfig({
      DATABASE_URL: database.url,
      PORT: '0',
      SNAPDECK_ADMIN_TOKEN: adminToken,
      JOB_LEASE_SECONDS: '2',
      RECONCILE_INTERVAL_SECONDS: '1',
    });
    const agentConfig = loadAgentConfig({
      AGENT_HOST_NAME: 'kvm-local',
      AGENT_STORAGE_DIR: join(root, 'primary'),
      SECONDARY_STORAGE_DIR: join(root, 'secondary'),
      AGENT_DRIVER: 'qemu-img',
      AGENT_HEARTBEAT_SECONDS: '1',
    });
    const quiet = process.env.E2E_LOG ? {} : { logger: false as const };
    const closers: Array<() => Promise<unknown>> = [];
    try {
      // The first process: provisions an instance, then its agent stops taking work (say it hangs).
      const bus = new InProcessBus();
      const api = await startApi(apiConfig, { ...quiet, bus });
      closers.push(() => api.close());
      const agent = await startAgent(agentConfig, { ...quiet, bus });
      const url = (await api.getUrl()).replace('[::1]', '127.0.0.1');
      const tenant = await createTenant({ url, adminToken });
      const token = tenant.tokens.MEMBER;
      const instance = await createInstance({ url } as Stack, token, {
        environmentId: tenant.environmentId,
        name: 'db-1',
      });
      const volumeId = instance.volumes[0].id;
      await agent.close();

      const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string; state: string } } }>(
        url,
        token,
        'mutation($v: ID!) { createSnapshot(input: {volumeId: $v}) { snapshot { id state } } }',
        { v: volumeId },
      );
      expect(createSnapshot.snapshot.state).toBe('IN_PROGRESS');
      expect(bus.pendingDeliveries('kvm-local')).toBe(1);
      // The process ends: the queued delivery is gone with its memory.
      await closers.pop()!();

      // The next process has a new, empty bus; only the Job row and its lease remember the snapshot.
      const nextBus = new InProcessBus();
      const nextApi = await startApi(apiConfig, { ...quiet, bus: nextBus });
      closers.push(() => nextApi.close());
      const nextAgent = await startAgent(agentConfig, { ...quiet, bus: nextBus });
      closers.push(() => nextAgent.close());
      const nextUrl = (await nextApi.getUrl()).replace('[::1]', '127.0.0.1');
      const snapshot = await waitForSnapshot({ url: nextUrl } as Stack, token, createSnapshot.snapshot.id, 'COMPLETED');
      expect(snapshot.job).toMatchObject({ status: 'SUCCEEDED' });
      const { job } = await mustQuery<{ job: { attempt: number } }>(
        nextUrl,
        token,
        'query($id: ID!) { job(id: $id) { attempt } }',
        { id: (snapshot.job as { id: string }).id },
      );
      expect(job.attempt).toBe(2);
      expect(await snapshotTags(join(root, 'primary', 'volumes', `${volumeId}.qcow2`))).toContain(snapshot.id);
    } finally {
      for (const close of closers.reverse()) await close();
      await database.drop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
