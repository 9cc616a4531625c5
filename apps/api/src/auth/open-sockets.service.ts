import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import { CloseCode } from 'graphql-ws';
import { API_CONFIG, type ApiConfig } from '../config.js';
import type { Principal } from './principal.js';

/** What the registry needs of a WebSocket: a way to close it with a code and a reason. */
export interface ClosableSocket {
  close(code: number, reason: string): void;
}

/** Why a socket is closed by a re-check. */
export const TOKEN_NO_LONGER_VALID = 'Bearer token revoked or expired, or its user disabled or deleted';
export const PRINCIPAL_CHANGED = "The token's user changed role or organization: connect again";

/**
 * The open graphql-ws sockets of this api process and the principal each authenticated as. Every
 * SUBSCRIPTION_AUTH_RECHECK_SECONDS one query re-reads all their tokens; a socket whose token was revoked
 * or expired, or whose user was disabled, deleted or moved to another role, is closed with 4401.
 *
 * Polling rather than pub/sub: each replica checks its own sockets against PostgreSQL, the source of truth,
 * so it works with any number of replicas without a channel to publish on; expiry (which no request
 * announces) and every way a token can stop working (revoke, disable, delete, a role change, a row edited by
 * hand) are caught by the same query, and a lost message cannot leave a socket open. The cost is one indexed
 * query per interval per replica, however many sockets are open; the delay is at most one interval.
 */
@Injectable()
export class OpenSockets implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OpenSockets.name);
  private readonly sockets = new Map<ClosableSocket, Principal>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly db: Database,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.recheck().catch((error: unknown) => {
        this.logger.warn(`Open WebSockets not re-checked: ${(error as Error).message}`);
      });
    }, this.config.SUBSCRIPTION_AUTH_RECHECK_SECONDS * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A socket whose connection_init authenticated as `principal`. */
  add(socket: ClosableSocket, principal: Principal): void {
    this.sockets.set(socket, principal);
  }

  remove(socket: ClosableSocket): void {
    this.sockets.delete(socket);
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Re-reads every open socket's token once and closes those that no longer authenticate; how many closed. */
  recheck(): Promise<number> {
    // One pass at a time: a slow database must not pile passes up.
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<number> {
    const open = [...this.sockets];
    const tokenIds = [...new Set(open.map(([, p]) => p.tokenId).filter((id): id is string => !!id))];
    if (tokenIds.length === 0) return 0;
    const valid = new Map(
      (await this.db.repos.apiTokens.stillValid(tokenIds)).map(({ token, user }) => [token.id, user] as const),
    );
    let closed = 0;
    for (const [socket, principal] of open) {
      if (!principal.tokenId || !this.sockets.has(socket)) continue;
      const user = valid.get(principal.tokenId);
      const reason = !user
        ? TOKEN_NO_LONGER_VALID
        : user.role !== principal.role || user.organizationId !== principal.organizationId
          ? PRINCIPAL_CHANGED
          : null;
      if (!reason) continue;
      this.sockets.delete(socket);
      socket.close(CloseCode.Unauthorized, reason);
      closed += 1;
    }
    if (closed > 0) this.logger.log(`Closed ${closed} WebSocket(s) whose credentials stopped working`);
    return closed;
  }
}
