import { Logger } from '@nestjs/common';
import type { InProcessBus } from '@snapdeck/transport';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { PubSub, type PubSubEngine } from 'graphql-subscriptions';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiConfig } from '../config.js';

/** The pub/sub that carries changes to the subscribers of every api replica. */
export const PUB_SUB = Symbol('PUB_SUB');

const logger = new Logger('PubSub');

/** Logs a connection's errors once per distinct message, not once per reconnect attempt. */
function logErrors(redis: Redis, role: string): Redis {
  let last = '';
  redis.on('error', (error: Error) => {
    if (error.message === last) return;
    last = error.message;
    logger.warn(`Redis ${role} for subscriptions: ${error.message}`);
  });
  redis.on('ready', () => (last = ''));
  return redis;
}

/**
 * Redis on the cluster stack, so a change made through one replica reaches the subscribers of all of them;
 * memory in an all-in-one process (there is one replica, and no Redis). A subscriber connection cannot send
 * commands, hence two connections. The publisher gives up on a command after a few reconnect attempts rather
 * than waiting for Redis forever: a publish must not hold up the operation that changed the row.
 */
export function createPubSub(config: ApiConfig, bus: InProcessBus | null): PubSubEngine {
  if (bus) return new PubSub();
  return new RedisPubSub({
    publisher: logErrors(new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }), 'publisher'),
    subscriber: logErrors(new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }), 'subscriber'),
  });
}

export async function closePubSub(pubSub: PubSubEngine): Promise<void> {
  if (!(pubSub instanceof RedisPubSub)) return;
  const connections = [pubSub.getPublisher(), pubSub.getSubscriber()];
  try {
    // QUIT needs a reachable Redis; without one, give it a second and then drop the sockets.
    await Promise.race([pubSub.close(), sleep(1000, undefined, { ref: false })]);
  } catch {
    // Closing anyway.
  } finally {
    for (const connection of connections) connection.disconnect();
  }
}
