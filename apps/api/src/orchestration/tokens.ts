/** The api's shared Redis connection (BullMQ queues and workers). Absent (null) when agents are in-process. */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');

/**
 * The InProcessBus of an all-in-one process (api and co-located agent, no Redis), or null on the cluster stack.
 * Whatever else Redis serves (subscriptions' pub/sub, the queue dashboard) picks its in-process form from it.
 */
export const IN_PROCESS_BUS = Symbol('IN_PROCESS_BUS');
