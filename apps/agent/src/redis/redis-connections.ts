import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { describeError } from '../jobs/error-message.js';
import { TransportConnections } from '../transport/transport-ports.js';

const PROBE_INTERVAL_MS = 1000;

/**
 * The agent's Redis clients, made on first use so that building the Nest context opens no socket (a failed
 * start-up then leaves nothing behind). BullMQ 6 in native ESM cannot load ioredis itself: it gets instances.
 * Queues share a client, and BullMQ leaves clients it was given open, so close() here ends them.
 */
export class RedisConnections extends TransportConnections {
  private readonly logger = new Logger(RedisConnections.name);
  private readonly clients: Redis[] = [];
  private producerClient?: Redis;
  private workerClient?: Redis;
  private lastError?: string;
  private closed = false;

  constructor(private readonly url: string) {
    super();
  }

  /**
   * For queues the agent adds to. ioredis' default of 20 retries per command makes an `add` during an outage
   * fail (a missed heartbeat, a retried delivery) instead of hanging forever.
   */
  get producer(): Redis {
    this.producerClient ??= this.create('producer', {});
    return this.producerClient;
  }

  /** For the worker, which BullMQ duplicates for its blocking reads: BullMQ requires unlimited retries there. */
  get worker(): Redis {
    this.workerClient ??= this.create('worker', { maxRetriesPerRequest: null });
    return this.workerClient;
  }

  /**
   * Start-up check, with a probe client that never reconnects: the worker's client retries forever (as BullMQ
   * requires), so without a deadline an agent pointed at the wrong Redis would hang instead of saying so; and a
   * long-lived client left reconnecting would hold the process open for a while after a failed start.
   */
  async waitUntilReachable(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cause = await this.probe(Math.max(200, deadline - Date.now()));
      if (cause === undefined) return;
      if (Date.now() >= deadline) {
        throw new Error(`Redis is not reachable (waited ${timeoutMs / 1000} s): ${cause}`);
      }
      await sleep(Math.min(PROBE_INTERVAL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  /** One connection attempt and a PING; resolves with the cause of failure, or undefined when Redis answered. */
  private async probe(connectTimeout: number): Promise<string | undefined> {
    const probe = new Redis(this.url, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout,
      connectionName: 'snapdeck-agent-probe',
    });
    // The socket error ("connect ECONNREFUSED …") says more than connect()'s "Connection is closed".
    let socketError: string | undefined;
    probe.on('error', (error: unknown) => {
      socketError ??= describeError(error);
    });
    try {
      await probe.connect();
      await probe.ping();
      await probe.quit();
      return undefined;
    } catch (error) {
      // A refused connection ends the client by itself; disconnecting it again would arm a stray 2 s timer.
      if (probe.status !== 'end') probe.disconnect(false);
      return socketError ?? describeError(error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = this.clients.splice(0);
    this.producerClient = undefined;
    this.workerClient = undefined;
    await Promise.all(
      clients.map(async (client) => {
        if (client.status === 'end') return;
        // QUIT on a client that is not connected would wait through its reconnection attempts first.
        if (client.status !== 'ready') {
          client.disconnect(false);
          return;
        }
        try {
          await client.quit();
        } catch {
          client.disconnect(false);
        }
      }),
    );
  }

  private create(role: string, options: RedisOptions): Redis {
    // A late caller after shutdown must not open a fresh connection that nobody will close.
    if (this.closed) throw new Error('The agent is shutting down: its Redis connections are closed');
    const client = new Redis(this.url, { ...options, connectionName: `snapdeck-agent-${role}` });
    // Without a listener ioredis prints every failed reconnect; log each distinct cause once.
    client.on('error', (error: unknown) => {
      const text = describeError(error);
      if (text !== this.lastError) this.logger.warn(`Redis (${role}): ${text}`);
      this.lastError = text;
    });
    client.on('ready', () => {
      this.lastError = undefined;
    });
    this.clients.push(client);
    return client;
  }
}
