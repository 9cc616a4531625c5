import type { PubSubEngine } from 'graphql-subscriptions';

/** Events a slow subscriber may have waiting before its subscription is ended with an error. */
export const MAX_PENDING_EVENTS = 256;

/**
 * The events of one GraphQL subscription, as an async iterator fed by pub/sub messages. A hand-written
 * iterator rather than an async generator: a generator parked on `await` cannot be returned until the next
 * message arrives, which would keep the channel subscribed long after the client went away; here `return()`
 * unsubscribes at once.
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly pending: T[] = [];
  private readonly waiting: Array<(result: IteratorResult<T>) => void> = [];
  /** Set once no further events are taken: the stream ends when `pending` is drained. */
  private ending = false;
  private failure?: Error;
  private subscribed = true;

  private unsubscribe: () => void = () => undefined;

  private constructor() {}

  /**
   * Subscribes to `channel` and resolves once the subscription is in place (for Redis: the SUBSCRIBE was
   * acknowledged), so a row the caller reads afterwards cannot miss a change published after that read.
   * `onMessage` decides what a message means for this subscriber: `push` an event, `end` the stream, or both.
   */
  static async open<M, T>(
    pubSub: PubSubEngine,
    channel: string,
    onMessage: (message: M, stream: EventStream<T>) => void,
  ): Promise<EventStream<T>> {
    const stream = new EventStream<T>();
    const id = await pubSub.subscribe(
      channel,
      (message: M) => {
        if (!stream.ending) onMessage(message, stream);
      },
      {},
    );
    stream.unsubscribe = () => {
      pubSub.unsubscribe(id);
    };
    return stream;
  }

  /** Queues an event for the subscriber (ignored once the stream is ending). */
  push(event: T): void {
    if (this.ending) return;
    const waiter = this.waiting.shift();
    if (waiter) return waiter({ value: event, done: false });
    if (this.pending.length >= MAX_PENDING_EVENTS) {
      this.pending.length = 0;
      this.failure = new Error('The subscriber did not keep up with its events; the subscription was ended');
      return this.end();
    }
    this.pending.push(event);
  }

  /** Takes no further events: the subscriber gets those already queued, then the end of the stream. */
  end(): void {
    this.ending = true;
    if (this.subscribed) {
      this.subscribed = false;
      this.unsubscribe();
    }
    for (const waiter of this.waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.pending.length > 0) return Promise.resolve({ value: this.pending.shift()!, done: false });
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ending) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The client went away or completed: unsubscribe now, drop what was queued. */
  return(): Promise<IteratorResult<T>> {
    this.pending.length = 0;
    this.failure = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
