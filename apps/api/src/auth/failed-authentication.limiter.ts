import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { ErrorCode } from '@snapdeck/domain';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { AuthService } from './auth.service.js';
import { FailedAuthentications } from './failed-authentications.js';
import { bearerToken } from './token.js';

/** The body of the 429: GraphQL-shaped, so a client reads it as it reads every other refusal. */
export function rateLimitedBody(retryAfterSeconds: number) {
  return {
    errors: [
      {
        message: `Too many failed authentications from this address; try again in ${retryAfterSeconds} s`,
        // UNAUTHENTICATED, not a new code: the request presented a token that is not accepted (a request
        // whose token authenticates is never refused here), and the contract's codes are a closed list.
        // retryAfterSeconds repeats the Retry-After header for clients that only read the body.
        extensions: { code: ErrorCode.UNAUTHENTICATED, retryAfterSeconds },
      },
    ],
  };
}

/**
 * Limits failed bearer authentication per client address on /graphql (the queue dashboard's limiter, shaped
 * for GraphQL): after AUTH_FAILURE_LIMIT failures within AUTH_FAILURE_WINDOW_SECONDS, a request whose token
 * does not authenticate gets HTTP 429 with Retry-After, without being looked at further. A request whose
 * token authenticates is skipped before counting: it is neither counted nor slowed, even from an address
 * that is being refused (an office behind one NAT address keeps working while someone there guesses).
 * A request without an Authorization header is not counted either: it guesses nothing, and is answered
 * UNAUTHENTICATED where a token is needed. The token is looked up once; the guard reuses the answer.
 * The client's address is Express's `req.ip`, so TRUST_PROXY decides whether X-Forwarded-For is believed.
 * WebSocket connection_init failures count in the same store (FailedAuthentications).
 * Counters live in the api process (express-rate-limit's memory store): with several replicas behind a
 * balancer each keeps its own, so a client gets at most limit × replicas attempts per window.
 */
@Injectable()
export class FailedAuthenticationLimiter implements NestMiddleware {
  private readonly limiter: RequestHandler;

  constructor(
    private readonly auth: AuthService,
    failures: FailedAuthentications,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.limiter = rateLimit({
      store: failures.store, // shared with graphql-ws connection_init
      limit: config.AUTH_FAILURE_LIMIT,
      windowMs: config.AUTH_FAILURE_WINDOW_SECONDS * 1000,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      skip: (req) => this.authenticates(req),
      handler: (_req, res) => {
        const retryAfterSeconds = Number(res.getHeader('Retry-After')) || config.AUTH_FAILURE_WINDOW_SECONDS;
        res.status(429).set('Cache-Control', 'no-store').json(rateLimitedBody(retryAfterSeconds));
      },
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    void this.limiter(req, res, next);
  }

  /** True when the request is not a failed authentication: no credentials at all, or a token that works. */
  private async authenticates(req: Request): Promise<boolean> {
    const header = req.headers.authorization;
    if (header === undefined) return true;
    const secret = bearerToken(header);
    if (!secret) return false;
    return (await this.auth.authenticateRequest(req, secret)) !== null;
  }
}
