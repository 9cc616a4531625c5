import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, Request } from 'express';
import { ipKeyGenerator, MemoryStore } from 'express-rate-limit';
import type { IncomingMessage } from 'node:http';
import { API_CONFIG, type ApiConfig } from '../config.js';

/**
 * The count of failed bearer authentications per client address, shared by both doors a token can be tried
 * at: POST/GET /graphql (FailedAuthenticationLimiter, express-rate-limit over this store) and the graphql-ws
 * connection_init. Guessing over WebSockets spends the same budget as over HTTP.
 */
@Injectable()
export class FailedAuthentications {
  /** express-rate-limit's memory store: the limiter initialises it with the window. */
  readonly store = new MemoryStore();
  readonly limit: number;
  readonly windowSeconds: number;

  constructor(
    @Inject(API_CONFIG) config: ApiConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.limit = config.AUTH_FAILURE_LIMIT;
    this.windowSeconds = config.AUTH_FAILURE_WINDOW_SECONDS;
  }

  /** The key express-rate-limit counts under for an address (an IPv6 address counts by its /56). */
  keyOf(address: string): string {
    return ipKeyGenerator(address, 56);
  }

  /**
   * The client address of a WebSocket upgrade request as Express sees an HTTP request's (`req.ip`): the same
   * `trust proxy` (TRUST_PROXY) decides whether X-Forwarded-For is believed.
   */
  addressOf(request: IncomingMessage): string {
    const app = this.adapterHost.httpAdapter.getInstance<Express>();
    const view = Object.create(app.request as object, {
      app: { value: app },
      headers: { value: request.headers },
      socket: { value: request.socket },
      connection: { value: request.socket },
    }) as Request;
    return view.ip ?? request.socket.remoteAddress ?? 'unknown';
  }

  /** Counts one failure of `address`; whether it is now over the limit, and for how long. */
  async recordFailure(address: string): Promise<{ limited: boolean; retryAfterSeconds: number }> {
    const { totalHits, resetTime } = await this.store.increment(this.keyOf(address));
    const retryAfterSeconds = resetTime
      ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000))
      : this.windowSeconds;
    return { limited: totalHits > this.limit, retryAfterSeconds };
  }
}
