import { hostQueueName, RESULTS_QUEUE } from '@snapdeck/contracts';
import { Redis } from 'ioredis';
import type { FaultStack } from './fault-stack.js';

/** The queue prefix every process of the fault stack uses (fault-stack.ts). */
const PREFIX = 'faults';

/**
 * Whether nothing is in flight between the processes: no delivery waiting for or held by an agent, no result
 * waiting for the api. A resumed agent still reports what it held, and the api then acts on it (a late create's
 * cleanup): rows can all look final in between, so the verdict waits for this too. False while Redis is down.
 */
export async function queuesDrained(stack: FaultStack): Promise<boolean> {
  const redis = new Redis(stack.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    const queues = [RESULTS_QUEUE, ...[...stack.agents.keys()].map(hostQueueName)];
    const pipeline = redis.pipeline();
    for (const queue of queues) {
      const key = `${PREFIX}:${queue}`;
      pipeline.llen(`${key}:wait`).llen(`${key}:active`).zcard(`${key}:delayed`).zcard(`${key}:prioritized`);
    }
    const counts = (await pipeline.exec()) ?? [];
    return counts.every(([error, n]) => error === null && n === 0);
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
