/**
 * The branching of subscriptions without I/O: who may connect, which operations a socket may run, what a
 * subscriber of one organization may receive, how a job's stream moves only forward and ends, how a stream
 * lets go of its channel, and that a failed publish never fails the caller. The in-memory PubSub of an
 * all-in-one process stands in for Redis; the e2e spec runs the same paths on Redis.
 */
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { JobName } from '@snapdeck/contracts';
import { ErrorCode, JobStatus, Role, SnapshotState } from '@snapdeck/domain';
import {
  ALL_ORGANIZATIONS,
  organizationScope,
  type Database,
  type JobEntity,
  type ReadScope,
  type SnapshotEntity,
} from '@snapdeck/persistence';
import { buildSchema, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { PubSub, type PubSubEngine } from 'graphql-subscriptions';
import type { Context, ServerOptions } from 'graphql-ws';
import type { AuthService } from '../auth/auth.service.js';
import type { FailedAuthentications } from '../auth/failed-authentications.js';
import type { OpenSockets } from '../auth/open-sockets.service.js';
import type { Principal } from '../auth/principal.js';
import type { ApiConfig } from '../config.js';
import { InProcessBus } from '@snapdeck/transport';
import { ChangeFeed } from './change-feed.service.js';
import {
  isFinal,
  jobChannel,
  jobMessage,
  jobProgress,
  reviveSnapshot,
  snapshotChannel,
  snapshotMessage,
  visibleTo,
} from './change-messages.js';
import { EventStream, MAX_PENDING_EVENTS } from './event-stream.js';
import { connectionAuthorization, graphqlWsOptions, missingTokenReason } from './graphql-ws.options.js';
import { createPubSub } from './pub-sub.js';
import { SubscriptionsService } from './subscriptions.service.js';

const ORG_A = '01a00000-0000-7000-8000-00000000000a';
const ORG_B = '01a00000-0000-7000-8000-00000000000b';
const ENV_A = '01a00000-0000-7000-8000-0000000000e1';
const JOB_A = '01a00000-0000-7000-8000-0000000000f1';
const config = { QUEUE_PREFIX: 'unit' } as ApiConfig;

const principal = (organizationId: string, role = Role.READ_ONLY): Principal => ({
  userId: 'u',
  email: 'u@example.test',
  organizationId,
  role,
});

function snapshotRow(overrides: Partial<SnapshotEntity> = {}): SnapshotEntity {
  return Object.assign(
    {
      id: '01a00000-0000-7000-8000-0000000000s1',
      organizationId: ORG_A,
      environmentId: ENV_A,
      volumeId: 'v',
      instanceId: null,
      name: 'web-1_ROOT_20261122093000',
      description: null,
      state: SnapshotState.IN_PROGRESS,
      quiesced: false,
      error: null,
      lastJobId: JOB_A,
      createdAt: new Date('2026-11-22T09:30:00Z'),
      completedAt: null,
      policyId: null,
      protected: false,
      pendingRestoreBackupId: null,
    },
    overrides,
  );
}

function jobRow(overrides: Partial<JobEntity> = {}): JobEntity {
  return Object.assign(
    {
      id: JOB_A,
      organizationId: ORG_A,
      type: JobName.CREATE_SNAPSHOT,
      status: JobStatus.PENDING,
      hostId: 'h',
      resourceType: 'Snapshot',
      resourceId: 's',
      payload: {},
      result: null,
      error: null,
      attempt: 1,
      leaseExpiresAt: null,
      sentAt: null,
      createdByUserId: null,
      createdAt: new Date('2026-11-22T09:30:00Z'),
      startedAt: null,
      finishedAt: null,
    },
    overrides,
  );
}

const inScope = (scope: ReadScope, organizationId: string | null) =>
  scope.kind === 'all' || scope.organizationId === organizationId;

/** A Database whose environments and jobs belong to ORG_A, read within the caller's scope as the real one does. */
function databaseWith(job: { current: JobEntity }): Database {
  return {
    repos: {
      environments: {
        findById: (scope: ReadScope, id: string) =>
          Promise.resolve(id === ENV_A && inScope(scope, ORG_A) ? { id, organizationId: ORG_A } : null),
      },
      jobs: {
        findById: (scope: ReadScope, id: string) =>
          Promise.resolve(id === job.current.id && inScope(scope, job.current.organizationId) ? job.current : null),
      },
    },
  } as unknown as Database;
}

/** Reads what a stream has queued without waiting for more. */
async function drain<T>(stream: EventStream<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push((await stream.next()).value as T);
  return out;
}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

describe('who may connect over WebSocket', () => {
  const closes: Array<[number, string]> = [];
  const auth = {
    authenticate: (secret: string) => Promise.resolve(secret === 'sdk_good' ? principal(ORG_A) : null),
  } as unknown as AuthService;
  const registered: unknown[] = [];
  const sockets = {
    add: (socket: unknown) => registered.push(socket),
    remove: (socket: unknown) => registered.splice(registered.indexOf(socket), 1),
  } as unknown as OpenSockets;
  const failures = {
    recorded: 0,
    addressOf: () => '192.0.2.1',
    recordFailure(this: { recorded: number }) {
      this.recorded += 1;
      return Promise.resolve({ limited: this.recorded > 2, retryAfterSeconds: 60 });
    },
  };
  const options = graphqlWsOptions({
    auth,
    sockets,
    failures: failures as unknown as FailedAuthentications,
    db: {} as Database,
    schema: () => buildSchema('type N { n: N, v: Int } type Query { a: Int } type Subscription { s: N }'),
    validationRules: [maxDepthRule({ n: 3, propagateOnRejection: false, onReject: [(c, e) => c?.reportError(e)] })],
    // A root field is a lookup (LOOKUP_COST, 10) plus its selection.
    maxCost: 15,
    formatError: (formatted: GraphQLFormattedError) => formatted,
    production: true,
  }) as ServerOptions;
  const connectWith = async (connectionParams: Record<string, unknown> | undefined) => {
    closes.length = 0;
    const ctx = {
      connectionParams,
      extra: { socket: { close: (code: number, reason: string) => closes.push([code, reason]) } },
    } as unknown as Context;
    return { allowed: await options.onConnect!(ctx), closes: [...closes] };
  };

  it('reads the token from authorization or Authorization, as a Bearer header', () => {
    expect(connectionAuthorization({ authorization: 'Bearer a' })).toBe('Bearer a');
    expect(connectionAuthorization({ Authorization: 'Bearer b' })).toBe('Bearer b');
    expect(connectionAuthorization({ authorization: 42 })).toBeUndefined();
    expect(connectionAuthorization(undefined)).toBeUndefined();
    expect(missingTokenReason({ authorization: 'Bearer a' })).toBeNull();
    expect(missingTokenReason({ authorization: 'a' })).toMatch(/Missing bearer token/);
    expect(missingTokenReason({})).toMatch(/Missing bearer token/);
    // A WebSocket close reason holds at most 123 bytes.
    expect(Buffer.byteLength(missingTokenReason({})!)).toBeLessThanOrEqual(123);
  });

  it('accepts a valid token and closes the socket with 4401 and the reason otherwise', async () => {
    registered.length = 0;
    expect(await connectWith({ authorization: 'Bearer sdk_good' })).toEqual({ allowed: true, closes: [] });
    // An accepted socket is kept for the periodic re-check of its token; a refused one is not.
    expect(registered).toHaveLength(1);
    expect(await connectWith({ Authorization: 'Bearer sdk_good' })).toEqual({ allowed: true, closes: [] });
    const missing = await connectWith(undefined);
    expect(missing.allowed).toBe(false);
    expect(missing.closes).toEqual([[4401, expect.stringMatching(/Missing bearer token/)]]);
    expect(await connectWith({ authorization: 'Bearer sdk_bad' })).toEqual({
      allowed: false,
      closes: [[4401, 'Invalid bearer token']],
    });
    expect(registered).toHaveLength(2);
    // Only the wrong token counted as a failed authentication; past the limit the reason says so.
    expect(failures.recorded).toBe(1);
    await connectWith({ authorization: 'Bearer sdk_bad' });
    expect((await connectWith({ authorization: 'Bearer sdk_bad' })).closes).toEqual([
      [4401, 'Too many failed authentications from this address; try again in 60 s'],
    ]);
    expect(await connectWith({ authorization: 'Bearer sdk_good' })).toEqual({ allowed: true, closes: [] });
  });

  it('runs only valid, shallow, cheap subscriptions; every refusal is BAD_USER_INPUT', async () => {
    const subscribe = (query: string) =>
      options.onSubscribe!({} as Context, '1', { query }) as GraphQLError[] | { document: unknown };
    const codes = (result: ReturnType<typeof subscribe>) =>
      Array.isArray(result) ? result.map((e) => e.extensions.code) : 'accepted';
    expect(codes(subscribe('subscription { s { v } }'))).toBe('accepted');
    expect(codes(subscribe('subscription {'))).toEqual([ErrorCode.BAD_USER_INPUT]);
    expect(codes(subscribe('subscription { nope }'))).toEqual([ErrorCode.BAD_USER_INPUT]);
    expect(codes(subscribe('query { a }'))).toEqual([ErrorCode.BAD_USER_INPUT]);
    expect(codes(subscribe('subscription { s { n { n { n { v } } } } }'))).toEqual([ErrorCode.BAD_USER_INPUT]);
    const tooExpensive = subscribe('subscription { s { a: v b: v c: v d: v e: v } }') as GraphQLError[];
    expect(tooExpensive.map((e) => [e.extensions.code, e.extensions.cost])).toEqual([[ErrorCode.BAD_USER_INPUT, 16]]);
    expect(tooExpensive[0].extensions).not.toHaveProperty('http');
    const nul = options.onSubscribe!({} as Context, '2', {
      query: 'subscription { s { v } }',
      variables: { x: ['ok', 'a\u0000'] },
    }) as GraphQLError[];
    expect(nul.map((e) => [e.extensions.code, e.message])).toEqual([
      [ErrorCode.BAD_USER_INPUT, 'variables.x[1] contains a NUL character (U+0000)'],
    ]);
  });
});

describe('what a subscriber receives', () => {
  let pubSub: PubSub;
  beforeEach(() => (pubSub = new PubSub()));

  it('scopes rows to the reader, and names channels per environment and job under the prefix', () => {
    expect(visibleTo(organizationScope(ORG_A), ORG_A)).toBe(true);
    expect(visibleTo(organizationScope(ORG_A), ORG_B)).toBe(false);
    expect(visibleTo(organizationScope(ORG_A), null)).toBe(false);
    expect(visibleTo(ALL_ORGANIZATIONS, ORG_B)).toBe(true);
    expect(snapshotChannel('p1', ENV_A)).not.toBe(snapshotChannel('p2', ENV_A));
    expect(snapshotChannel('p1', ENV_A).startsWith('p1:')).toBe(true);
    expect(jobChannel('p1', JOB_A).startsWith('p1:')).toBe(true);
  });

  it('revives dates that crossed Redis as strings', () => {
    const wire = JSON.parse(JSON.stringify(snapshotMessage(snapshotRow(), false))) as ReturnType<
      typeof snapshotMessage
    >;
    const row = reviveSnapshot(wire.snapshot);
    expect(row.createdAt).toEqual(new Date('2026-11-22T09:30:00Z'));
    expect(row.completedAt).toBeNull();
  });

  it('orders job rows by attempt, then PENDING < RUNNING < final', () => {
    const p = (attempt: number, status: JobStatus) => jobProgress({ attempt, status });
    expect(p(1, JobStatus.PENDING)).toBeLessThan(p(1, JobStatus.RUNNING));
    expect(p(1, JobStatus.RUNNING)).toBeLessThan(p(1, JobStatus.FAILED));
    expect(p(1, JobStatus.RUNNING)).toBeLessThan(p(2, JobStatus.PENDING)); // a re-sent job starts PENDING again
    expect(p(2, JobStatus.SUCCEEDED)).toBe(p(2, JobStatus.FAILED));
    expect([JobStatus.SUCCEEDED, JobStatus.FAILED].every(isFinal)).toBe(true);
    expect([JobStatus.PENDING, JobStatus.RUNNING].some(isFinal)).toBe(false);
  });

  it("is NOT_FOUND for another organization's environment or job, and fine for platform staff", async () => {
    const service = new SubscriptionsService(databaseWith({ current: jobRow() }), pubSub, config);
    await expect(service.snapshotUpdates(principal(ORG_B), ENV_A)).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    await expect(service.jobUpdates(principal(ORG_B, Role.ORG_ADMIN), JOB_A)).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    const staff = await service.snapshotUpdates(principal(ORG_B, Role.SUPPORT), ENV_A);
    await staff.return();
  });

  it('drops a message about a row outside the reader scope, even on a channel it may read', async () => {
    const service = new SubscriptionsService(databaseWith({ current: jobRow() }), pubSub, config);
    const stream = await service.snapshotUpdates(principal(ORG_A), ENV_A);
    const channel = snapshotChannel('unit', ENV_A);
    await pubSub.publish(channel, snapshotMessage(snapshotRow({ organizationId: ORG_B }), false));
    await pubSub.publish(channel, snapshotMessage(snapshotRow({ state: SnapshotState.COMPLETED }), false));
    await pubSub.publish(channel, snapshotMessage(snapshotRow({ state: SnapshotState.DESTROYING }), true));
    const events = await drain(stream, 2);
    expect(events.map((e) => [e.snapshot.organizationId, e.snapshot.state, e.removed])).toEqual([
      [ORG_A, SnapshotState.COMPLETED, false],
      [ORG_A, SnapshotState.DESTROYING, true],
    ]);
    await stream.return();
  });

  it('starts a job stream with the current row, skips stale or repeated rows, and ends after the final one', async () => {
    const job = { current: jobRow({ status: JobStatus.RUNNING }) };
    const stream = await new SubscriptionsService(databaseWith(job), pubSub, config).jobUpdates(
      principal(ORG_A),
      JOB_A,
    );
    const channel = jobChannel('unit', JOB_A);
    const publish = (row: JobEntity) => pubSub.publish(channel, JSON.parse(JSON.stringify(jobMessage(row))));
    await publish(jobRow({ status: JobStatus.PENDING })); // older than what the stream started with
    await publish(jobRow({ status: JobStatus.RUNNING })); // the same again
    await publish(jobRow({ status: JobStatus.PENDING, attempt: 2 })); // re-sent
    await publish(jobRow({ status: JobStatus.FAILED, attempt: 2, finishedAt: new Date() }));
    await publish(jobRow({ status: JobStatus.RUNNING, attempt: 3 })); // after the end: never delivered
    const statuses: string[] = [];
    for await (const event of stream) statuses.push(`${event.attempt}:${event.status}`);
    expect(statuses).toEqual(['1:RUNNING', '2:PENDING', '2:FAILED']);
  });

  it('ends at once for a job that had finished before the subscription', async () => {
    const job = { current: jobRow({ status: JobStatus.SUCCEEDED, finishedAt: new Date() }) };
    const stream = await new SubscriptionsService(databaseWith(job), pubSub, config).jobUpdates(
      principal(ORG_A),
      JOB_A,
    );
    const events = [];
    for await (const event of stream) events.push(event.status);
    expect(events).toEqual([JobStatus.SUCCEEDED]);
  });
});

describe('EventStream', () => {
  /** A PubSub that counts live subscriptions. */
  function countingPubSub() {
    const inner = new PubSub();
    let live = 0;
    const engine = {
      publish: (channel: string, payload: unknown) => inner.publish(channel, payload),
      subscribe: async (channel: string, onMessage: (m: unknown) => void) => {
        live++;
        return inner.subscribe(channel, onMessage);
      },
      unsubscribe: (id: number) => {
        live--;
        inner.unsubscribe(id);
      },
    } as unknown as PubSubEngine;
    return { engine, live: () => live, publish: (c: string, p: unknown) => inner.publish(c, p) };
  }

  it('lets go of the channel when the client leaves while it waits for an event', async () => {
    const bus = countingPubSub();
    const stream = await EventStream.open<number, number>(bus.engine, 'c', (m, s) => s.push(m));
    expect(bus.live()).toBe(1);
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(bus.live()).toBe(0);
    await bus.publish('c', 1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('delivers in order what arrived before it was read, then the end', async () => {
    const bus = countingPubSub();
    const stream = await EventStream.open<number, number>(bus.engine, 'c', (m, s) => {
      s.push(m);
      if (m === 3) s.end();
    });
    for (const m of [1, 2, 3, 4]) await bus.publish('c', m);
    expect(bus.live()).toBe(0);
    const seen: number[] = [];
    for await (const m of stream) seen.push(m);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('ends with an error a subscriber that does not read its events', async () => {
    const bus = countingPubSub();
    const stream = await EventStream.open<number, number>(bus.engine, 'c', (m, s) => s.push(m));
    for (let m = 0; m <= MAX_PENDING_EVENTS; m++) await bus.publish('c', m);
    await expect(stream.next()).rejects.toThrow(/did not keep up/);
    expect(bus.live()).toBe(0);
  });
});

describe('ChangeFeed', () => {
  const snapshotId = '01a00000-0000-7000-8000-0000000000s1';

  function feedWith(rows: { snapshot: SnapshotEntity | null; job: JobEntity }, pubSub: PubSubEngine) {
    const db = {
      repos: {
        snapshots: {
          findById: () => Promise.resolve(rows.snapshot),
          findByIds: () => Promise.resolve(rows.snapshot ? [rows.snapshot] : []),
        },
        jobs: { findForOrchestration: () => Promise.resolve(rows.job) },
      },
    } as unknown as Database;
    return { feed: new ChangeFeed(db, pubSub, config), tx: db.repos };
  }

  it('publishes a removed snapshot once, as it was last, and the closed job', async () => {
    const pubSub = new PubSub();
    const got: Array<[string, unknown]> = [];
    await pubSub.subscribe(snapshotChannel('unit', ENV_A), (m: unknown) => got.push(['snapshot', m]));
    await pubSub.subscribe(jobChannel('unit', JOB_A), (m: unknown) => got.push(['job', m]));
    const rows = {
      snapshot: snapshotRow({ id: snapshotId, state: SnapshotState.DESTROYING }) as SnapshotEntity | null,
      job: jobRow({ type: JobName.DELETE_SNAPSHOT, resourceId: snapshotId, status: JobStatus.SUCCEEDED }),
    };
    const { feed, tx } = feedWith(rows, pubSub);
    const publish = await feed.beforeJobCloses(tx, rows.job);
    rows.snapshot = null; // the applier removed the row
    await publish();
    expect(got).toEqual([
      ['job', { job: expect.objectContaining({ id: JOB_A, status: JobStatus.SUCCEEDED }) }],
      ['snapshot', { removed: true, snapshot: expect.objectContaining({ id: snapshotId, state: 'DESTROYING' }) }],
    ]);
  });

  it('never fails the operation: a publish that fails or hangs is logged and given up', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const failing = { publish: () => Promise.reject(new Error('Redis is down')) } as unknown as PubSubEngine;
      const hanging = { publish: () => new Promise(() => undefined) } as unknown as PubSubEngine;
      const rows = { snapshot: snapshotRow({ id: snapshotId }), job: jobRow() };
      await expect(feedWith(rows, failing).feed.snapshotChanged(snapshotId)).resolves.toBeUndefined();
      const hung = feedWith(rows, hanging).feed.jobChanged(JOB_A);
      await jest.advanceTimersByTimeAsync(2500);
      await expect(hung).resolves.toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('the pub/sub of a process', () => {
  it('is in memory when agents are reached through the in-process bus', () => {
    expect(
      createPubSub({ REDIS_URL: 'redis://127.0.0.1:1', QUEUE_PREFIX: 'unit' } as ApiConfig, new InProcessBus()),
    ).toBeInstanceOf(PubSub);
  });
});
