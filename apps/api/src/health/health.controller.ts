import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { Database } from '@snapdeck/persistence';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { REDIS_CONNECTION } from '../orchestration/tokens.js';

const PROBE_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), PROBE_TIMEOUT_MS).unref()),
  ]);
}

/** 200 when the database and the queue answer, 503 otherwise, with which one failed. */
@Controller()
export class HealthController {
  constructor(
    private readonly db: Database,
    @Inject(REDIS_CONNECTION) private readonly redis: Redis,
  ) {}

  @Get('health')
  async health(@Res() res: Response): Promise<void> {
    const [database, queue] = await Promise.all([
      withTimeout(this.db.ping()).then(
        () => 'up',
        () => 'down',
      ),
      withTimeout(this.redis.ping()).then(
        () => 'up',
        () => 'down',
      ),
    ]);
    const ok = database === 'up' && queue === 'up';
    res
      .status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json({ status: ok ? 'ok' : 'error', database, queue });
  }
}
