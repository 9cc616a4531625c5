import type { INestApplication } from '@nestjs/common';
import { loadApiConfig } from '@snapdeck/config';
import { createTestDatabase, describeWith } from '@snapdeck/testing';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import pg from 'pg';
import { startApi } from '@snapdeck/api';
import { eventually } from './support/graphql-client.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: Socket;
}

/** One request over node:http, so the test sees the connection it rode on and the Connection header. */
function request(
  url: string,
  options: { agent: http.Agent | false; method?: string; path: string; headers?: http.OutgoingHttpHeaders },
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { agent, method = 'GET', path, headers = {} } = options;
    const req = http.request(new URL(path, url), { agent, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, socket: req.socket! }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The error code of a request that must fail to connect, or null when it got an answer. */
async function connectError(url: string): Promise<string | null> {
  try {
    await request(url, { agent: false, path: '/health' });
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unknown';
  }
}

describeWith(['redis'], 'graceful shutdown of the api (what SIGTERM does: app.close())', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let app: INestApplication | undefined;
  let sql: pg.Client;
  const adminToken = `test-admin-${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startApi(
      loadApiConfig({
        DATABASE_URL: database.url,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: `snapdeck-e2e-${randomBytes(6).toString('hex')}`,
        PORT: '0',
        NODE_ENV: 'production',
        SNAPDECK_ADMIN_TOKEN: adminToken,
      }),
      process.env.E2E_LOG ? {} : { logger: false },
    );
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await app?.close();
    await database?.drop();
  });

  it('finishes a request in flight with 200, refuses new connections, and closes idle keep-alive ones', async () => {
    const url = (await app!.getUrl()).replace('[::1]', '127.0.0.1');
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const busyAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // A browser's or a proxy's connection, idle between requests.
      const idle = await request(url, { agent: idleAgent, path: '/health' });
      expect(idle.status).toBe(200);
      expect(idle.headers.connection).toBe('keep-alive');
      let idleClosed = false;
      idle.socket.once('close', () => (idleClosed = true));

      // A query that waits on a lock this test holds: in flight for exactly as long as the test decides.
      await sql.query('BEGIN');
      await sql.query('LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE');
      const inFlight = request(
        url,
        {
          agent: busyAgent,
          method: 'POST',
          path: '/graphql',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        },
        JSON.stringify({ query: '{ organizations(first: 5) { totalCount } }' }),
      );
      await eventually(
        async () => {
          const { rows } = await sql.query<{ waiting: number }>(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
          );
          return rows[0].waiting > 0;
        },
        20000,
        'the GraphQL query to wait on the lock',
      );

      let closed = false;
      const closing = app!.close().then(() => (closed = true));

      // No new connection is taken while the request drains (one that raced the close in the listen backlog is
      // reset rather than refused)...
      await eventually(
        async () => (await connectError(url)) === 'ECONNREFUSED',
        20000,
        'new connections to be refused',
      );
      // ...the idle keep-alive connection is let go rather than holding the shutdown up...
      await eventually(async () => idleClosed, 20000, 'the idle keep-alive connection to be closed');
      // ...and nothing is torn down under the request in flight.
      expect(closed).toBe(false);

      await sql.query('COMMIT');
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ data: { organizations: { totalCount: expect.any(Number) } } });
      // The connection it rode on is not kept for another request: the server ends it once answered.
      await eventually(async () => answer.socket.destroyed, 20000, 'the drained connection to be closed');

      await closing;
      expect(closed).toBe(true);
      app = undefined;
      expect(await connectError(url)).toBe('ECONNREFUSED');
    } finally {
      await sql.query('ROLLBACK').catch(() => undefined);
      idleAgent.destroy();
      busyAgent.destroy();
    }
  });
});
