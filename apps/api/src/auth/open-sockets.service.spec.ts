import { Logger } from '@nestjs/common';
import { Role } from '@snapdeck/domain';
import type { AuthenticatedToken, Database } from '@snapdeck/persistence';
import type { ApiConfig } from '../config.js';
import { OpenSockets, PRINCIPAL_CHANGED, TOKEN_NO_LONGER_VALID } from './open-sockets.service.js';
import type { Principal } from './principal.js';

const ORG = '00000000-0000-7000-8000-00000000000a';
const principal = (tokenId: string, role = Role.MEMBER): Principal => ({
  userId: `user-${tokenId}`,
  email: `${tokenId}@example.test`,
  organizationId: ORG,
  role,
  tokenId,
});

/** A socket that records how it was closed. */
function socket() {
  const closes: Array<[number, string]> = [];
  return { closes, close: (code: number, reason: string) => void closes.push([code, reason]) };
}

describe('OpenSockets', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  /** The database answers which of the asked tokens still authenticate, as `valid` says. */
  function registry(valid: Record<string, Role>) {
    const asked: string[][] = [];
    const db = {
      repos: {
        apiTokens: {
          stillValid: (ids: readonly string[]): Promise<AuthenticatedToken[]> => {
            asked.push([...ids]);
            return Promise.resolve(
              ids
                .filter((id) => id in valid)
                .map((id) => ({
                  token: { id } as AuthenticatedToken['token'],
                  user: { id: `user-${id}`, role: valid[id], organizationId: ORG } as AuthenticatedToken['user'],
                })),
            );
          },
        },
      },
    } as unknown as Database;
    return { sockets: new OpenSockets(db, { SUBSCRIPTION_AUTH_RECHECK_SECONDS: 5 } as ApiConfig), asked };
  }

  it('closes with 4401 the sockets whose token stopped working, and only those, in one query', async () => {
    const { sockets, asked } = registry({ a: Role.MEMBER });
    const [keep, keepToo, revoked] = [socket(), socket(), socket()];
    sockets.add(keep, principal('a'));
    sockets.add(keepToo, principal('a'));
    sockets.add(revoked, principal('b'));
    expect(await sockets.recheck()).toBe(1);
    expect(asked).toEqual([['a', 'b']]);
    expect(revoked.closes).toEqual([[4401, TOKEN_NO_LONGER_VALID]]);
    expect([keep.closes, keepToo.closes]).toEqual([[], []]);
    expect(sockets.size).toBe(2);
    // A closed socket is not asked about again.
    expect(await sockets.recheck()).toBe(0);
    expect(asked[1]).toEqual(['a']);
  });

  it("closes a socket whose user's role changed, so that it connects again with the new role", async () => {
    const { sockets } = registry({ a: Role.READ_ONLY });
    const demoted = socket();
    sockets.add(demoted, principal('a', Role.ORG_ADMIN));
    expect(await sockets.recheck()).toBe(1);
    expect(demoted.closes).toEqual([[4401, PRINCIPAL_CHANGED]]);
  });

  it('asks nothing when no socket is open, and forgets a socket that closed by itself', async () => {
    const { sockets, asked } = registry({});
    expect(await sockets.recheck()).toBe(0);
    const gone = socket();
    sockets.add(gone, principal('x'));
    sockets.remove(gone);
    expect(await sockets.recheck()).toBe(0);
    expect(asked).toEqual([]);
    expect(gone.closes).toEqual([]);
  });

  it('a close reason fits a WebSocket close frame (123 bytes)', () => {
    for (const reason of [TOKEN_NO_LONGER_VALID, PRINCIPAL_CHANGED])
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  });
});
