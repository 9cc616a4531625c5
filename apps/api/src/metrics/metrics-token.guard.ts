import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { API_CONFIG, type ApiConfig } from '../config.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** True when `authorization` is `Bearer <expected>`; compared in constant time (over digests of equal length). */
export function bearerMatches(authorization: string | undefined, expected: string): boolean {
  const match = /^Bearer (.+)$/i.exec(authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1].trim()), digest(expected));
}

/**
 * `METRICS_TOKEN`, when set, is the bearer token a Prometheus scraper shows for /metrics (its labels name hosts
 * and operations); unset, /metrics stays open like /health.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.METRICS_TOKEN;
    if (!expected) return true;
    const http = context.switchToHttp();
    if (bearerMatches(http.getRequest<Request>().headers.authorization, expected)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    throw new UnauthorizedException('A valid metrics token is required');
  }
}
