/** The api's shared Redis connection (BullMQ queues and workers). */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');
