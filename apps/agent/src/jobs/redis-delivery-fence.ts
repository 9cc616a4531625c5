import { Injectable } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { fenceKey } from '@snapdeck/contracts';
import { RedisConnections } from '../redis/redis-connections.js';
import { DeliveryFence } from '../transport/transport-ports.js';

/**
 * Cluster: reads the fence key the api writes before each send (`<prefix>:fence:<jobId>` = the attempt sent last,
 * `closed` once the job closed). A missing key says nothing: Redis lost its data (or the api predates fences).
 * Blocking on it would stall every delivery until the api noticed; instead the delivery runs (handlers are
 * idempotent), the api re-fences every open job as soon as it sees the lost epoch, and it applies only the current
 * attempt's result anyway.
 */
@Injectable()
export class RedisDeliveryFence extends DeliveryFence {
  constructor(
    private readonly config: AgentConfig,
    private readonly connections: RedisConnections,
  ) {
    super();
  }

  async check(jobId: string, attempt: number): Promise<'current' | 'stale' | 'unknown'> {
    const value = await this.connections.producer.get(fenceKey(this.config.QUEUE_PREFIX, jobId));
    if (value === null) return 'unknown';
    return value === String(attempt) ? 'current' : 'stale';
  }
}
