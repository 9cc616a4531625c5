import { Redis } from 'ioredis';

/** BullMQ workers block on Redis, so a command must wait for a reconnect rather than fail after N retries. */
export function createRedisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}
