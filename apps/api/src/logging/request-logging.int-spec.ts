import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type INestApplication, Logger as NestLogger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Args, GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Logger } from 'nestjs-pino';
import { LoggingApiModule } from './logging.module.js';

type Line = Record<string, unknown> & { msg: string };

const SECRET = 'sdk_test_0123456789abcdefSECRET';

/** Logs the way the api's resolvers and services do: `new Logger(...)` from @nestjs/common, across awaits. */
@Resolver()
class ProbeResolver {
  private readonly logger = new NestLogger(ProbeResolver.name);

  @Query(() => String)
  async probe(): Promise<string> {
    this.logger.log('probe resolving');
    await new Promise((resolve) => setTimeout(resolve, 15));
    this.logger.warn('probe resolved');
    return 'ok';
  }

  @Mutation(() => String)
  rename(@Args('name') name: string): string {
    this.logger.log({ msg: 'renamed', length: name.length });
    return name;
  }
}

@Module({
  imports: [
    GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, path: '/graphql' }),
  ],
  providers: [ProbeResolver],
})
class ProbeApiModule {}

describe('api logs: pino JSON lines carry the request id of the GraphQL request they belong to', () => {
  const raw: string[] = [];
  const lines = (): Line[] => raw.map((line) => JSON.parse(line) as Line);
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    // As startApi does it.
    const root = LoggingApiModule.wrap(
      { module: ProbeApiModule },
      { LOG_LEVEL: 'debug', LOG_FORMAT: 'json' },
      { write: (line: string) => void raw.push(line) },
    );
    app = await NestFactory.create(root, { bufferLogs: true });
    app.useLogger(app.get(Logger));
    await app.listen(0, '127.0.0.1');
    url = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/graphql`;
  });

  afterAll(async () => {
    await app?.close();
    NestLogger.overrideLogger(false);
  });

  function post(body: object, headers: Record<string, string> = {}) {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}`, ...headers },
      body: JSON.stringify(body),
    });
  }

  it('writes start-up lines as JSON with level, time, msg and context', () => {
    const started = lines().find((line) => line.context === 'NestApplication');
    expect(started).toMatchObject({ level: 'info', msg: expect.any(String) as unknown });
    expect(Number.isNaN(Date.parse(started?.time as string))).toBe(false);
  });

  it('tags each resolver line with its own request’s id, the one echoed in x-request-id', async () => {
    const [taken, generated] = await Promise.all([
      post({ query: '{ probe }' }, { 'x-request-id': 'portal-7f3a.42' }),
      post({ query: '{ probe }' }),
    ]);
    expect(await taken.json()).toEqual({ data: { probe: 'ok' } });
    expect(await generated.json()).toEqual({ data: { probe: 'ok' } });
    expect(taken.headers.get('x-request-id')).toBe('portal-7f3a.42');
    const generatedId = generated.headers.get('x-request-id');
    expect(generatedId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    for (const reqId of ['portal-7f3a.42', generatedId]) {
      const mine = lines().filter((line) => line.reqId === reqId);
      expect(mine.map((line) => [line.context ?? null, line.level, line.msg])).toEqual([
        ['ProbeResolver', 'info', 'probe resolving'],
        ['ProbeResolver', 'warn', 'probe resolved'],
        [null, 'info', 'request completed'],
      ]);
      expect(mine[2]).toMatchObject({ req: { method: 'POST', url: '/graphql' }, res: { statusCode: 200 } });
    }
  });

  it('keeps structured fields of an object message beside reqId', async () => {
    await post({ query: 'mutation { rename(name: "web-1") }' }, { 'x-request-id': 'rename-1' });
    expect(lines().find((line) => line.msg === 'renamed')).toMatchObject({
      reqId: 'rename-1',
      context: 'ProbeResolver',
      length: 5,
    });
  });

  it.each([
    ['too long', 'x'.repeat(65)],
    ['not a token', 'a b'],
    ['a forged JSON fragment', '1","level":"fatal'],
  ])('replaces an incoming request id that is %s with a new one', async (_what, incoming) => {
    const response = await post({ query: '{ probe }' }, { 'x-request-id': incoming });
    const reqId = response.headers.get('x-request-id');
    expect(reqId).not.toBe(incoming);
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines().filter((line) => line.reqId === reqId)).toHaveLength(3);
  });

  it('never writes the authorization header, a cookie or the request body', async () => {
    await post({ query: '{ probe }', variables: { secretVariable: 'VARIABLE-VALUE' } }, { cookie: 'sid=COOKIE-VALUE' });
    const all = raw.join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('COOKIE-VALUE');
    expect(all).not.toContain('VARIABLE-VALUE');
    expect(all).not.toContain('probe }');
    expect(all.toLowerCase()).not.toContain('authorization');
  });
});
