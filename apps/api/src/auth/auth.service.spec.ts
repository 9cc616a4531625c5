import { Logger } from '@nestjs/common';
import { Role } from '@snapdeck/domain';
import type { AuthenticatedToken, Database } from '@snapdeck/persistence';
import { AuthService } from './auth.service.js';
import { hashToken } from './token.js';

/** The database as AuthService uses it: one token whose lastUsedAt the test sets, and a count of each call. */
function fakeDatabase(lastUsedAt: Date | null) {
  const calls = { authenticate: 0, touch: 0 };
  const found: AuthenticatedToken = {
    token: { id: 'tok', lastUsedAt } as AuthenticatedToken['token'],
    user: { id: 'u', email: 'u@example.test', organizationId: 'o', role: Role.MEMBER } as AuthenticatedToken['user'],
  };
  const db = {
    repos: {
      apiTokens: {
        authenticate: (hash: string) => {
          calls.authenticate += 1;
          return Promise.resolve(hash === hashToken('sdk_good') ? found : null);
        },
        touch: () => {
          calls.touch += 1;
          return Promise.resolve();
        },
      },
    },
  } as unknown as Database;
  return { db, calls };
}

describe('AuthService', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  it('answers the principal of a working token, with the token id, and null otherwise', async () => {
    const { db } = fakeDatabase(new Date());
    const auth = new AuthService(db);
    expect(await auth.authenticate('sdk_good')).toEqual({
      userId: 'u',
      email: 'u@example.test',
      organizationId: 'o',
      role: Role.MEMBER,
      tokenId: 'tok',
    });
    expect(await auth.authenticate('sdk_bad')).toBeNull();
  });

  it('writes lastUsedAt only when the last write is a minute old or missing', async () => {
    const recent = fakeDatabase(new Date(Date.now() - 30_000));
    await new AuthService(recent.db).authenticate('sdk_good');
    expect(recent.calls.touch).toBe(0);
    const stale = fakeDatabase(new Date(Date.now() - 61_000));
    await new AuthService(stale.db).authenticate('sdk_good');
    expect(stale.calls.touch).toBe(1);
    const never = fakeDatabase(null);
    await new AuthService(never.db).authenticate('sdk_good');
    expect(never.calls.touch).toBe(1);
  });

  it('looks a request up once, however many ask (the rate limiter, then the guard)', async () => {
    const { db, calls } = fakeDatabase(new Date());
    const auth = new AuthService(db);
    const request = {};
    const [first, second] = await Promise.all([
      auth.authenticateRequest(request, 'sdk_good'),
      auth.authenticateRequest(request, 'sdk_good'),
    ]);
    expect(first).toEqual(second);
    expect(calls.authenticate).toBe(1);
    await auth.authenticateRequest({}, 'sdk_good');
    expect(calls.authenticate).toBe(2);
  });
});
