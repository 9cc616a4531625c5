/**
 * Fuzzing every mutation of the schema (read by introspection, so a mutation added later is fuzzed without a
 * change here) with fast-check and a fixed seed, against the api in production mode with a simulator agent:
 * edge values per input type (huge and negative numbers, NUL bytes, lone surrogates, long strings, invalid
 * UUIDs, another tenant's ids, wrong enum values, nulls, missing required fields, extra fields) mixed with
 * valid ids of a seeded tenant, so that some requests get deep into resolvers.
 *
 * It proves: no INTERNAL_SERVER_ERROR, no HTTP 5xx, an `extensions.code` on every error, and no database
 * change from a request that failed. A trigger on every table records each committed row change; a failed
 * request must add none (background work of an earlier successful one is waited for first, and the benign
 * writes in EXCLUDED_CHANGES do not count).
 *
 * The query root fields get FUZZ_QUERY_RUNS (default 2000) requests of the same kind on top.
 * FUZZ_RUNS (default 10000) and FUZZ_SEED change the size and the seed.
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeWith } from '@snapdeck/testing';
import { createInstance, waitForSnapshot } from './support/flows.js';
import { mustQuery } from './support/graphql-client.js';
import { startStack, type Stack } from './support/stack.js';
import { createTenant, createUserWithToken, type Tenant } from './support/tenants.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10000);
/** Requests over the query root fields besides (read-only: they must never change the database). */
const QUERY_RUNS = Number(process.env.FUZZ_QUERY_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
/**
 * Requests in flight at once. A batch whose requests all failed must have changed nothing; in a batch with a
 * success, the changes cannot be told apart, so its failed requests are not counted as checked.
 */
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 8);

/** A committed row change the trigger recorded. */
interface Change {
  tbl: string;
  op: string;
  columns: string[] | null;
}

/**
 * Writes that are no change of state made by a request: one line each. (`columns`: an UPDATE that touches
 * only these columns; omit it for every change of the table.)
 */
const EXCLUDED_CHANGES: Array<{ tbl: string; op?: string; columns?: string[] }> = [
  { tbl: 'hosts', op: 'UPDATE', columns: ['last_heartbeat_at', 'agent_version', 'state', 'free_bytes', 'total_bytes'] },
  { tbl: 'api_tokens', op: 'UPDATE', columns: ['last_used_at'] },
  // The notification worker claiming and settling outbox rows of earlier events (background, not a request's).
  {
    tbl: 'webhook_deliveries',
    op: 'UPDATE',
    columns: ['attempts', 'next_attempt_at', 'status', 'last_error', 'finished_at', 'response_status'],
  },
  {
    tbl: 'notification_emails',
    op: 'UPDATE',
    columns: ['attempts', 'next_attempt_at', 'status', 'last_error', 'finished_at'],
  },
];

/**
 * What a request refused with QUOTA_EXCEEDED writes on purpose, after its rollback: the `quota.exceeded` event and
 * its outbox rows (docs/architecture.md, "Notifications: the outbox"). At most one event per refusal.
 */
const QUOTA_EVENT_TABLES = ['events', 'webhook_deliveries', 'notification_emails'];
function withoutQuotaEvents(changes: Change[], refusals: number): Change[] {
  if (refusals === 0) return changes;
  const events = changes.filter((c) => c.tbl === 'events' && c.op === 'INSERT').length;
  if (events > refusals) return changes;
  return changes.filter((c) => !(c.op === 'INSERT' && QUOTA_EVENT_TABLES.includes(c.tbl)));
}

const benign = (change: Change) =>
  EXCLUDED_CHANGES.some(
    (rule) =>
      rule.tbl === change.tbl &&
      (rule.op === undefined || rule.op === change.op) &&
      (rule.columns === undefined || (change.columns ?? []).every((c) => rule.columns!.includes(c))),
  );

// ---- the schema, as introspection describes it ----

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface InputValue {
  name: string;
  type: TypeRef;
}
interface FullType {
  kind: string;
  name: string;
  fields: Array<{ name: string; args: InputValue[]; type: TypeRef }> | null;
  inputFields: InputValue[] | null;
  enumValues: Array<{ name: string }> | null;
}

const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }';
const INTROSPECTION = `{ __schema { mutationType { name } queryType { name } types {
  kind name
  fields { name args { name type { ${TYPE_REF} } } type { ${TYPE_REF} } }
  inputFields { name type { ${TYPE_REF} } }
  enumValues { name }
} } }`;

const printType = (t: TypeRef): string =>
  t.kind === 'NON_NULL' ? `${printType(t.ofType!)}!` : t.kind === 'LIST' ? `[${printType(t.ofType!)}]` : t.name!;
const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);

// ---- values ----

/** Ids the generator may use, by the kind of resource an argument's name suggests. */
type IdPool = Record<string, string[]>;

const INTS = [0, 1, -1, 2, 10, 100, 1024, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1e20, -1e20, 1.5, 1e-9];
const STRINGS = [
  '',
  ' ',
  'a',
  'web-1',
  'x'.repeat(64),
  'x'.repeat(10_000),
  'nul\u0000byte',
  '\u0000',
  'lone\ud800surrogate',
  '\udfff',
  'emoji-\u{1F600}',
  'ünïcødé',
  "'; DROP TABLE snapshots; --",
  '../../../../etc/passwd',
  '/etc/passwd',
  'templates/../volumes/x.qcow2',
  '%s%n%x',
  '<script>alert(1)</script>',
  'user@example.test',
  '\n\r\t',
  '0',
  '-1',
  'true',
  'null',
  '2026-12-01T00:00:00Z',
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
];

function kindOf(name: string): string {
  const lower = name.toLowerCase();
  for (const kind of [
    'instancesnapshot',
    'snapshot',
    'volume',
    'instance',
    'environment',
    'organization',
    'user',
    'host',
    'template',
    'token',
    'job',
  ]) {
    if (lower.replace(/[^a-z]/g, '').includes(kind)) return kind;
  }
  return 'any';
}

class Values {
  constructor(
    private readonly types: Map<string, FullType>,
    private readonly pool: IdPool,
    private readonly strangerPool: string[],
  ) {}

  private id(argName: string): fc.Arbitrary<unknown> {
    const own = this.pool[kindOf(argName)] ?? [];
    const any = Object.values(this.pool).flat();
    return fc.oneof(
      { weight: 6, arbitrary: own.length ? fc.constantFrom(...own) : fc.constantFrom(...any) },
      { weight: 2, arbitrary: fc.constantFrom(...any) },
      { weight: 2, arbitrary: fc.constantFrom(...this.strangerPool) },
      { weight: 1, arbitrary: fc.uuid() },
      { weight: 1, arbitrary: fc.constantFrom(...STRINGS) },
      { weight: 1, arbitrary: fc.constantFrom(...INTS) },
    );
  }

  /** Any JSON value of a wrong shape. */
  private junk(): fc.Arbitrary<unknown> {
    return fc.oneof(
      fc.constant(null),
      fc.constantFrom(...INTS),
      fc.constantFrom(...STRINGS),
      fc.boolean(),
      fc.constant([]),
      fc.constant({}),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    );
  }

  /**
   * A value a client could well send: every required field, valid enum values, resource-like names, small
   * sizes and the seeded tenant's ids (or another tenant's); one leaf in twenty is an edge value instead.
   * These are the requests that get past validation into resolvers and transactions.
   */
  plausible(type: TypeRef, name: string, depth = 0): fc.Arbitrary<unknown> {
    const edge = this.of(type, name, depth);
    if (type.kind === 'NON_NULL')
      return fc.oneof(
        { weight: 19, arbitrary: this.plausibleShape(type.ofType!, name, depth) },
        { weight: 1, arbitrary: edge },
      );
    return fc.oneof(
      { weight: 12, arbitrary: this.plausibleShape(type, name, depth) },
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: edge },
    );
  }

  private plausibleShape(type: TypeRef, name: string, depth: number): fc.Arbitrary<unknown> {
    if (type.kind === 'NON_NULL') return this.plausibleShape(type.ofType!, name, depth);
    if (type.kind === 'LIST') return fc.array(this.plausible(type.ofType!, name, depth + 1), { maxLength: 3 });
    const full = this.types.get(type.name!)!;
    if (full.kind === 'ENUM') return fc.constantFrom(...full.enumValues!.map((v) => v.name));
    if (full.kind === 'INPUT_OBJECT') {
      const fields = Object.fromEntries(
        full.inputFields!.map((f) => [f.name, this.plausible(f.type, f.name, depth + 1)]),
      );
      return fc
        .record(fields, { requiredKeys: [] })
        .map((value) => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)));
    }
    const own = this.pool[kindOf(name)] ?? Object.values(this.pool).flat();
    switch (full.name) {
      case 'ID':
        return fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(...own) },
          { weight: 1, arbitrary: fc.constantFrom(...this.strangerPool) },
          { weight: 1, arbitrary: fc.uuid() },
        );
      case 'Int':
        return fc.oneof(
          { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) },
          { weight: 1, arbitrary: fc.constantFrom(...INTS) },
        );
      case 'Float':
        return fc.double({ min: 0, max: 10, noNaN: true });
      case 'Boolean':
        return fc.boolean();
      case 'String':
        if (/organizationId|Id$/.test(name)) return fc.constantFrom(...own);
        if (/email/i.test(name)) {
          return fc.oneof(
            { weight: 8, arbitrary: fc.stringMatching(/^[a-z]{3,8}@example\.test$/) },
            {
              weight: 1,
              arbitrary: fc.constantFrom('a\ud800b@example.test', 'nul\u0000@example.test', 'x\udfff@example.test'),
            },
          );
        }
        if (/path/i.test(name)) return fc.constantFrom('templates/missing.qcow2', 'incoming/x.qcow2', 'x.qcow2');
        return fc.oneof(
          { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/) },
          // An otherwise valid request whose one text carries what PostgreSQL or UTF-8 cannot hold.
          {
            weight: 1,
            arbitrary: fc.constantFrom('web\u0000-1', '\u0000', 'web-\ud800', 'web-\udc00x', 'w'.repeat(5000)),
          },
        );
      default:
        return fc.constantFrom('2026-12-01T00:00:00Z', 'daily');
    }
  }

  /** A value for an input of type `type`, named `name`: mostly of the right shape, sometimes not. */
  of(type: TypeRef, name: string, depth = 0): fc.Arbitrary<unknown> {
    const right = this.rightShape(type, name, depth);
    const nullable = type.kind !== 'NON_NULL';
    return fc.oneof(
      { weight: 14, arbitrary: right },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: this.junk() },
      { weight: nullable ? 2 : 0, arbitrary: fc.constant(undefined) },
    );
  }

  private rightShape(type: TypeRef, name: string, depth: number): fc.Arbitrary<unknown> {
    if (type.kind === 'NON_NULL') return this.rightShape(type.ofType!, name, depth);
    if (type.kind === 'LIST') return fc.array(this.of(type.ofType!, name, depth + 1), { maxLength: depth > 1 ? 2 : 6 });
    const full = this.types.get(type.name!)!;
    if (full.kind === 'ENUM') {
      const values = full.enumValues!.map((v) => v.name);
      return fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...values) },
        { weight: 1, arbitrary: fc.constantFrom('NOPE', values[0].toLowerCase(), '', `${values[0]}\u0000`) },
      );
    }
    if (full.kind === 'INPUT_OBJECT') {
      if (depth > 3) return fc.constant({});
      const fields = Object.fromEntries(full.inputFields!.map((f) => [f.name, this.of(f.type, f.name, depth + 1)]));
      const required = full.inputFields!.filter((f) => f.type.kind === 'NON_NULL').map((f) => f.name);
      return fc
        .tuple(
          fc.record(fields, { requiredKeys: [] }),
          required.length ? fc.option(fc.constantFrom(...required), { freq: 6 }) : fc.constant(null),
          fc.option(fc.tuple(fc.constantFrom('extra', 'id', '__proto__', 'organizationId'), this.junk()), { freq: 8 }),
        )
        .map(([value, dropped, extra]) => {
          const out: Record<string, unknown> = {};
          // Required fields are there unless one was chosen to go missing (one request in several).
          for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = item;
          if (dropped !== null) delete out[dropped];
          if (extra) out[extra[0]] = extra[1];
          return out;
        });
    }
    switch (full.name) {
      case 'ID':
        return this.id(name);
      case 'Int':
        return fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: -5, max: 2000 }) },
          { weight: 2, arbitrary: fc.constantFrom(...INTS) },
          { weight: 1, arbitrary: fc.integer() },
        );
      case 'Float':
        return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...INTS));
      case 'Boolean':
        return fc.boolean();
      case 'String':
        if (/organizationId|Id$/.test(name)) return this.id(name);
        return fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
          { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
          { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
          { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
          { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/) },
          { weight: 1, arbitrary: fc.constantFrom(...Object.values(this.pool).flat()) },
        );
      default:
        // Custom scalars (dates, JSON): strings and numbers of every sort.
        return fc.oneof(
          fc.constantFrom('2026-12-01T00:00:00Z', '1970-01-01', 'yesterday', '', '9999-99-99'),
          fc.constantFrom(...INTS),
          fc.constantFrom(...STRINGS),
        );
    }
  }
}

/** Scalar fields of `typeName`, and the scalars of its object fields one level down (no connections). */
function selection(types: Map<string, FullType>, typeName: string, depth = 0): string {
  const type = types.get(typeName)!;
  if (type.kind === 'UNION' || type.kind === 'INTERFACE') return '__typename';
  const parts: string[] = [];
  for (const field of type.fields ?? []) {
    if (field.args.some((a) => a.type.kind === 'NON_NULL')) continue;
    const inner = types.get(named(field.type).name!)!;
    if (inner.kind === 'SCALAR' || inner.kind === 'ENUM') parts.push(field.name);
    else if (depth < 2 && inner.kind === 'OBJECT' && !inner.name.endsWith('Connection')) {
      parts.push(`${field.name} { ${selection(types, inner.name, depth + 1)} }`);
    }
  }
  return parts.length ? parts.join(' ') : '__typename';
}

/** GraphQL literal syntax for a JSON value (enum values are written bare where the type says so). */
function literal(value: unknown, type: TypeRef | null, types: Map<string, FullType>): string {
  if (value === null || value === undefined) return 'null';
  const t = type?.kind === 'NON_NULL' ? type.ofType : type;
  if (Array.isArray(value))
    return `[${value.map((v) => literal(v, t?.kind === 'LIST' ? t.ofType : null, types)).join(', ')}]`;
  if (typeof value === 'object') {
    const full = t && t.kind !== 'LIST' ? types.get(t.name!) : undefined;
    const fields = Object.entries(value).map(([k, v]) => {
      const fieldType = full?.inputFields?.find((f) => f.name === k)?.type ?? null;
      return `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'bad_key'}: ${literal(v, fieldType, types)}`;
    });
    return `{ ${fields.join(', ')} }`;
  }
  if (
    typeof value === 'string' &&
    t &&
    types.get(t.name ?? '')?.kind === 'ENUM' &&
    /^[_A-Za-z][_0-9A-Za-z]*$/.test(value)
  ) {
    return value;
  }
  return JSON.stringify(value);
}

interface Request {
  /** The root field: a mutation, or a query (`query` set). */
  mutation: string;
  query?: true;
  caller: 'ORG_ADMIN' | 'MEMBER' | 'READ_ONLY' | 'PLATFORM_ADMIN' | 'STRANGER';
  body: { query: string; variables: Record<string, unknown> };
}

interface Outcome {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

describeWith(['redis'], 'fuzzing every mutation and query', () => {
  let stack: Stack;
  let tenant: Tenant;
  let stranger: Tenant;
  let db: pg.Client;
  const findings: string[] = [];
  const statuses = new Map<number, number>();
  const codesSeen = new Map<string, number>();
  const perMutation = new Map<string, { sent: number; succeeded: number }>();

  beforeAll(async () => {
    stack = await startStack({
      agents: ['sim-a'],
      agentEnv: { AGENT_DRIVER: 'simulator', SIMULATOR_LATENCY_MS: '5' },
    });
    db = new pg.Client({ connectionString: stack.apiConfig.DATABASE_URL });
    await db.connect();
    await db.query(`
      CREATE TABLE fuzz_changes (id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL, columns text[]);
      CREATE FUNCTION fuzz_record() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE changed text[];
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          SELECT coalesce(array_agg(n.key ORDER BY n.key), '{}') INTO changed
            FROM jsonb_each(to_jsonb(NEW)) n WHERE n.value IS DISTINCT FROM (to_jsonb(OLD) -> n.key);
          IF cardinality(changed) = 0 THEN RETURN NULL; END IF;
        END IF;
        INSERT INTO fuzz_changes (tbl, op, columns) VALUES (TG_TABLE_NAME, TG_OP, changed);
        RETURN NULL;
      END $$;`);
    const { rows: tables } = await db.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'fuzz_changes'`,
    );
    for (const { tablename } of tables) {
      await db.query(
        `CREATE TRIGGER fuzz_record AFTER INSERT OR UPDATE OR DELETE ON "${tablename}" FOR EACH ROW EXECUTE FUNCTION fuzz_record()`,
      );
    }
    expect(tables.length).toBeGreaterThan(5);
    tenant = await createTenant(stack);
    stranger = await createTenant(stack);
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await stack?.close();
  });

  /** Ids of a seeded tenant: an instance with a data disk, a snapshot, users, the host; and a stranger's. */
  async function seed(): Promise<{ pool: IdPool; strangerPool: string[] }> {
    const resources = async (t: Tenant) => {
      const hostId = await stack.hostId('sim-a');
      const instance = await createInstance(stack, t.tokens.MEMBER, {
        environmentId: t.environmentId,
        name: `fuzz-${randomBytes(3).toString('hex')}`,
        dataDiskSizesGiB: [1],
      });
      const volumeIds = instance.volumes.map((v) => v.id);
      const { createSnapshot } = await mustQuery<{ createSnapshot: { snapshot: { id: string } } }>(
        stack.url,
        t.tokens.MEMBER,
        `mutation($v: ID!) { createSnapshot(input: { volumeId: $v }) { snapshot { id } } }`,
        { v: volumeIds[0] },
      );
      await waitForSnapshot(stack, t.tokens.MEMBER, createSnapshot.snapshot.id, 'COMPLETED');
      // Users the fuzzer may change or delete: not the ones whose tokens it calls with.
      const victims = [
        await createUserWithToken(stack, t.organizationId, 'MEMBER', t.tokens.ORG_ADMIN),
        await createUserWithToken(stack, t.organizationId, 'READ_ONLY', t.tokens.ORG_ADMIN),
      ];
      return {
        organization: [t.organizationId],
        environment: [t.environmentId],
        instance: [instance.id],
        volume: volumeIds,
        snapshot: [createSnapshot.snapshot.id],
        user: victims.map((v) => v.userId),
        host: [hostId],
      } satisfies IdPool;
    };
    const pool = await resources(tenant);
    const theirs = await resources(stranger);
    return { pool, strangerPool: [...Object.values(theirs).flat(), ...Object.values(stranger.userIds)] };
  }

  async function changesSince(id: string): Promise<Change[]> {
    const { rows } = await db.query<Change>('SELECT tbl, op, columns FROM fuzz_changes WHERE id > $1 ORDER BY id', [
      id,
    ]);
    return rows;
  }
  const lastChange = async () =>
    (await db.query<{ id: string }>('SELECT coalesce(max(id), 0) AS id FROM fuzz_changes')).rows[0].id;

  /** Waits until jobs of earlier requests are done and their results written. */
  async function quiesce(): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE status IN ('PENDING', 'RUNNING')`,
      );
      if (rows[0].n === 0) {
        const before = await lastChange();
        await new Promise((resolve) => setTimeout(resolve, 30));
        if ((await changesSince(before)).every(benign)) return;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    throw new Error('Background work did not settle within 10 s');
  }

  async function send(request: Request): Promise<Outcome> {
    const token =
      request.caller === 'PLATFORM_ADMIN'
        ? stack.adminToken
        : request.caller === 'STRANGER'
          ? stranger.tokens.ORG_ADMIN
          : tenant.tokens[request.caller];
    const response = await fetch(`${stack.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(request.body),
    });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as Outcome['body'] };
    } catch {
      return { status: response.status, body: { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] } };
    }
  }

  it(`sends ${RUNS} fuzzed mutations: no 500, a code on every error, no change from a failed request`, async () => {
    const t0 = Date.now();
    const { pool, strangerPool } = await seed();
    const seededIn = (Date.now() - t0) / 1000;
    const { __schema } = await mustQuery<{
      __schema: { mutationType: { name: string }; queryType: { name: string }; types: FullType[] };
    }>(stack.url, stack.adminToken, INTROSPECTION);
    const types = new Map(__schema.types.map((t) => [t.name, t]));
    const mutations = types.get(__schema.mutationType.name)!.fields!;
    const queries = types.get(__schema.queryType.name)!.fields!.filter((f) => !f.name.startsWith('__'));
    expect(mutations.length).toBeGreaterThanOrEqual(20);
    const values = new Values(types, pool, strangerPool);

    const requestOf = (field: (typeof mutations)[number], keyword = 'mutation'): fc.Arbitrary<Request> => {
      const query = keyword === 'query' ? ({ query: true } as const) : {};
      const wild = Object.fromEntries(field.args.map((a) => [a.name, values.of(a.type, a.name)]));
      const plausible = Object.fromEntries(field.args.map((a) => [a.name, values.plausible(a.type, a.name)]));
      const returns = named(field.type).name!;
      const select = types.get(returns)!.kind === 'SCALAR' ? '' : `{ ${selection(types, returns)} }`;
      return fc
        .record({
          args: fc.oneof(fc.record(wild, { requiredKeys: [] }), fc.record(plausible, { requiredKeys: [] })),
          inline: fc.boolean(),
          caller: fc.constantFrom<Request['caller']>(
            'ORG_ADMIN',
            'ORG_ADMIN',
            'ORG_ADMIN',
            'MEMBER',
            'MEMBER',
            'READ_ONLY',
            'PLATFORM_ADMIN',
            'STRANGER',
          ),
        })
        .map(({ args: given, inline, caller }) => {
          const present = field.args.filter((a) => given[a.name] !== undefined);
          if (inline) {
            const list = present.map((a) => `${a.name}: ${literal(given[a.name], a.type, types)}`).join(', ');
            return {
              mutation: field.name,
              ...query,
              caller,
              body: { query: `${keyword} { ${field.name}${list ? `(${list})` : ''} ${select} }`, variables: {} },
            };
          }
          const declared = field.args.map((a) => `$${a.name}: ${printType(a.type)}`).join(', ');
          const passed = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
          const variables = Object.fromEntries(present.map((a) => [a.name, given[a.name]]));
          const text = field.args.length
            ? `${keyword}(${declared}) { ${field.name}(${passed}) ${select} }`
            : `${keyword} { ${field.name} ${select} }`;
          return { mutation: field.name, ...query, caller, body: { query: text, variables } };
        });
    };

    const perField = Math.ceil(RUNS / mutations.length);
    const requests = fc
      .sample(fc.oneof(...mutations.map((m) => requestOf(m))), { seed: SEED, numRuns: Math.max(RUNS, perField) })
      .slice(0, RUNS);
    const queryRequests = QUERY_RUNS
      ? fc.sample(fc.oneof(...queries.map((q) => requestOf(q, 'query'))), { seed: SEED + 1, numRuns: QUERY_RUNS })
      : [];
    // Queries between the mutations, so they also meet the state the mutations left.
    const every = Math.max(1, Math.floor(requests.length / Math.max(1, queryRequests.length)));
    queryRequests.forEach((request, i) => requests.splice(Math.min(requests.length, (i + 1) * every + i), 0, request));

    const sampledIn = (Date.now() - t0) / 1000 - seededIn;
    const started = Date.now();
    let mustSettle = false;
    let checked = 0;
    let unchecked = 0;
    const shown = (request: Request, outcome: Outcome) =>
      `${request.caller} ${JSON.stringify(request.body).slice(0, 600)} -> ${outcome.status} ${JSON.stringify(outcome.body).slice(0, 400)}`;
    /** Sends one request and records what it answered; true when its mutation succeeded. */
    const sendAndRecord = async (request: Request): Promise<{ succeeded: boolean; outcome: Outcome }> => {
      const outcome = await send(request);
      const key = request.query ? `query ${request.mutation}` : request.mutation;
      const stats = perMutation.get(key) ?? { sent: 0, succeeded: 0 };
      stats.sent += 1;
      perMutation.set(key, stats);
      statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
      if (outcome.status >= 500) findings.push(`HTTP ${outcome.status}: ${shown(request, outcome)}`);
      for (const error of outcome.body.errors ?? []) {
        const code = error.extensions?.code;
        codesSeen.set(code ?? 'NONE', (codesSeen.get(code ?? 'NONE') ?? 0) + 1);
        if (!code) findings.push(`error without a code: ${shown(request, outcome)}`);
        if (code === 'INTERNAL_SERVER_ERROR') findings.push(`INTERNAL_SERVER_ERROR: ${shown(request, outcome)}`);
      }
      const answered = outcome.body.data?.[request.mutation] != null;
      if (answered) stats.succeeded += 1;
      // A query that answered wrote nothing either: only a successful mutation may change the database.
      return { succeeded: answered && !request.query, outcome };
    };
    for (let i = 0; i < requests.length; i += CONCURRENCY) {
      if (mustSettle) await quiesce(); // jobs of an earlier success may still write
      const batch = requests.slice(i, i + CONCURRENCY);
      const before = await lastChange();
      const results = await Promise.all(batch.map(sendAndRecord));
      mustSettle = results.some((r) => r.succeeded);
      if (mustSettle) {
        unchecked += results.filter((r) => !r.succeeded).length;
        continue;
      }
      checked += batch.length;
      const refusals = results.filter((r) =>
        (r.outcome.body.errors ?? []).some((e) => e.extensions?.code === 'QUOTA_EXCEEDED'),
      ).length;
      const changes = withoutQuotaEvents(
        (await changesSince(before)).filter((c) => !benign(c)),
        refusals,
      );
      if (changes.length) {
        findings.push(
          `failed requests changed ${JSON.stringify(changes.slice(0, 5))}: ` +
            batch.map((request, k) => shown(request, results[k].outcome)).join(' | '),
        );
      }
    }
    const seconds = (Date.now() - started) / 1000;

    const table = [...perMutation.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, s]) => `  ${name}: ${s.sent} sent, ${s.succeeded} succeeded`);
    console.log(
      [
        `fuzz: ${requests.length} requests over ${mutations.length} mutations and ${queries.length} queries in ${seconds.toFixed(1)} s (seed ${SEED}; ` +
          `seeding ${seededIn.toFixed(1)} s, generating ${sampledIn.toFixed(1)} s)`,
        `  requests checked for database changes (failed, or queries): ${checked} (${unchecked} more shared a batch with a success)`,
        `  HTTP statuses: ${JSON.stringify(Object.fromEntries(statuses))}`,
        `  error codes: ${JSON.stringify(Object.fromEntries(codesSeen))}`,
        ...table,
        `  findings: ${findings.length}`,
        ...findings.slice(0, 40).map((f) => `  - ${f}`),
      ].join('\n'),
    );
    expect(requests.length).toBe(RUNS + QUERY_RUNS);
    expect(perMutation.size).toBe(mutations.length + (QUERY_RUNS ? queries.length : 0));
    expect(checked).toBeGreaterThan(RUNS / 2);
    expect(findings).toEqual([]);
  }, 600_000);
});
