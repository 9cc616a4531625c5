import { createClient, type Client } from 'graphql-ws';
import type { Redis } from 'ioredis';
import WebSocket from 'ws';
import { eventually } from './graphql-client.js';

export interface SubscriptionError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface Closed {
  code: number;
  reason: string;
}

/** A graphql-ws client as the portal opens one, against `ws://<api>/graphql`, with no automatic retries. */
export function connect(
  httpUrl: string,
  connectionParams: Record<string, unknown>,
): { client: Client; closed: Promise<Closed> } {
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined, // the close event below says why
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  return { client, closed };
}

/** One subscription's events, errors and end, collected as they arrive. */
export class Collected<T> {
  readonly events: T[] = [];
  /** Errors of a result (a resolver refused) or of an error message (the operation was refused). */
  readonly errors: SubscriptionError[] = [];
  readonly ended: Promise<void>;
  private readonly dispose: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    let onEnd!: () => void;
    this.ended = new Promise<void>((resolve) => (onEnd = resolve));
    this.dispose = client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors) this.errors.push(...(result.errors as SubscriptionError[]));
          if (result.data) this.events.push(...Object.values(result.data));
        },
        error: (error) => {
          if (Array.isArray(error)) this.errors.push(...(error as SubscriptionError[]));
          else this.errors.push({ message: String((error as { reason?: string }).reason ?? error) });
          onEnd();
        },
        complete: onEnd,
      },
    );
  }

  /** Waits until the events collected so far satisfy `done`. */
  until(done: (events: T[]) => boolean, what: string, timeoutMs = 20000): Promise<T[]> {
    return eventually(async () => (done(this.events) ? this.events : null), timeoutMs, what);
  }

  codes(): string[] {
    return this.errors.map((e) => e.extensions?.code ?? 'NONE');
  }

  stop(): void {
    this.dispose();
  }
}

/**
 * Waits until some api replica holds a Redis subscription on a channel of this run (`<prefix>:…`) that names
 * `id`: from then on, a change to it reaches the subscriber. The protocol has no "subscribed" message, so
 * without this a mutation sent right after subscribing could be published before anyone listens.
 */
export function listening(redis: Redis, prefix: string, id: string): Promise<string[]> {
  return eventually(
    async () => {
      const channels = (await redis.pubsub('CHANNELS', `${prefix}:*${id}*`)) as string[];
      return channels.length > 0 ? channels : null;
    },
    10000,
    `a subscription on ${id}`,
  );
}
