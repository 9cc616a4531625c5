import { InProcessBus } from '@snapdeck/transport';
import { loadApiConfig } from '@snapdeck/config';
import { createTestDatabase, describeWith } from '@snapdeck/testing';
import { startApi } from '@snapdeck/api';
import { eventually, mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, type Tenant } from './support/tenants.js';

interface BoardQueue {
  name: string;
  description?: string;
  readOnlyMode: boolean;
  isPaused: boolean;
  hasWorkers: boolean | null;
}

const basic = (token: string, user = 'operator') => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;

describeWith(['redis'], 'the queue dashboard at /admin/queues (cluster stack)', () => {
  let stack: Stack;
  let tenant: Tenant;

  beforeAll(async () => {
    // The board needs agents' workers, not disks: the simulator driver serves.
    stack = await startStack({ agents: ['kvm-board'], agentEnv: { AGENT_DRIVER: 'simulator' } });
    tenant = await createTenant(stack);
  });
  afterAll(() => stack?.close());

  const get = (path: string, authorization?: string) =>
    fetch(`${stack.url}${path}`, { headers: authorization ? { authorization } : {} });

  async function listedQueues(authorization = bearer(stack.adminToken)): Promise<BoardQueue[]> {
    const res = await get('/admin/queues/api/queues', authorization);
    expect(res.status).toBe(200);
    return ((await res.json()) as { queues: BoardQueue[] }).queues;
  }

  it.each(['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png'])(
    'asks for credentials at %s without them: 401 with a Basic challenge, nothing of the board',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="Snapdeck queues"/);
      expect(await res.text()).not.toMatch(/<html|"queues"/i);
    },
  );

  it('answers 401 to a token that is not one, as bearer or as Basic password', async () => {
    for (const authorization of [bearer('sdk_not-a-token'), basic('sdk_not-a-token'), basic('', stack.adminToken)]) {
      const res = await get('/admin/queues', authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="Snapdeck queues"/);
    }
  });

  it('refuses a valid token that is not a platform administrator with 403, pages, api and assets alike', async () => {
    for (const token of [tenant.tokens.ORG_ADMIN, tenant.tokens.MEMBER]) {
      for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png']) {
        for (const authorization of [bearer(token), basic(token)]) {
          const res = await get(path, authorization);
          expect({ path, status: res.status }).toEqual({ path, status: 403 });
          expect(await res.text()).not.toMatch(/<html|"queues"/i);
        }
      }
    }
  });

  it('shows the board to a platform administrator by bearer token and by Basic auth (a browser)', async () => {
    for (const authorization of [bearer(stack.adminToken), basic(stack.adminToken)]) {
      const res = await get('/admin/queues', authorization);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toMatch(/<html/i);
      expect(html).toContain('/admin/queues');
    }
    const asset = await get('/admin/queues/static/favicon-32x32.png', basic(stack.adminToken));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('image/png');
  });

  it("lists results, agent-events and the agent's host queue, read through the configured prefix", async () => {
    const prefix = stack.apiConfig.QUEUE_PREFIX;
    const queues = await listedQueues();
    expect(queues.map((q) => q.name).sort()).toEqual(['agent-events', 'host-kvm-board', 'results']);
    const host = queues.find((q) => q.name === 'host-kvm-board')!;
    expect(host.description).toBe(`Redis keys ${prefix}:host-kvm-board:*`);
    expect(host.readOnlyMode).toBe(true);
    // BullMQ finds a queue's workers by a client name made of prefix and queue name: the agent's worker is
    // seen only if the board reads the queue under the same prefix the agent consumes it from.
    expect(host.hasWorkers).toBe(true);
    expect(queues.find((q) => q.name === 'results')!.hasWorkers).toBe(true);
  });

  it('adds the queue of a host that registers after the board was first shown', async () => {
    expect((await listedQueues()).map((q) => q.name)).not.toContain('host-kvm-late');
    await stack.startAgent('kvm-late');
    const late = await eventually(
      async () => (await listedQueues(basic(stack.adminToken))).find((q) => q.name === 'host-kvm-late'),
      20000,
      'the late host queue on the board',
    );
    expect(late.description).toBe(`Redis keys ${stack.apiConfig.QUEUE_PREFIX}:host-kvm-late:*`);
    expect(late.hasWorkers).toBe(true);
  });

  it('is read-only: pausing a host queue is refused and the queue keeps running', async () => {
    const res = await fetch(`${stack.url}/admin/queues/api/queues/host-kvm-board/pause`, {
      method: 'PUT',
      headers: { authorization: bearer(stack.adminToken) },
    });
    expect(res.status).toBe(405);
    const host = (await listedQueues()).find((q) => q.name === 'host-kvm-board')!;
    expect(host.isPaused).toBe(false);
  });

  it('leaves GraphQL, /health, /ready and /metrics as they were', async () => {
    expect((await get('/health')).status).toBe(200);
    expect((await get('/ready')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
    const data = await mustQuery<{ viewer: { user: { role: string } } }>(
      stack.url,
      stack.adminToken,
      '{ viewer { user { role } } }',
    );
    expect(data.viewer.user.role).toBe('PLATFORM_ADMIN');
  });

  // Last in this file: once a client is over the limit, it is refused for the rest of the window.
  it('answers 429 to a client that keeps failing to sign in: tokens are not to be guessed here', async () => {
    let res: Response | undefined;
    const limit = 30; // DASHBOARD_FAILED_SIGN_INS in apps/api/src/queue-dashboard
    for (let attempt = 0; attempt <= limit; attempt++) {
      res = await get('/admin/queues', bearer(`sdk_guess-${attempt}`));
      if (res.status === 429) break;
      expect(res.status).toBe(401);
    }
    expect(res?.status).toBe(429);
    expect(res?.headers.get('ratelimit-policy')).toMatch(/q=30/);
    // GraphQL and the health endpoints are not behind the dashboard's limit.
    expect((await get('/health')).status).toBe(200);
  });
});

describe('the queue dashboard in an all-in-one process (no Redis)', () => {
  it('is not mounted: /admin/queues answers 404 even to an administrator', async () => {
    const database = await createTestDatabase();
    const adminToken = `test-admin-${Date.now()}-dashboard-off`;
    const app = await startApi(
      loadApiConfig({
        DATABASE_URL: database.url,
        // Nothing listens here: the all-in-one api must not need Redis for the dashboard or anything else.
        REDIS_URL: 'redis://127.0.0.1:1',
        PORT: '0',
        NODE_ENV: 'production',
        SNAPDECK_ADMIN_TOKEN: adminToken,
      }),
      { logger: false, bus: new InProcessBus() },
    );
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      for (const authorization of [bearer(adminToken), basic(adminToken), undefined]) {
        const res = await fetch(`${url}/admin/queues`, { headers: authorization ? { authorization } : {} });
        expect(res.status).toBe(404);
        expect(res.headers.get('www-authenticate')).toBeNull();
      }
      expect((await fetch(`${url}/admin/queues/api/queues`)).status).toBe(404);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
