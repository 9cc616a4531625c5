import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ManagedChild } from './child.js';
import { freePortIn, waitFor } from './ports.js';

/**
 * A Redis of the campaign's own (port 6380-6399, a temp folder, no RDB saves, AOF on): SIGKILLed and started
 * again with its append-only file kept (nothing acknowledged is lost) or deleted (it comes back empty).
 */
export class PrivateRedis {
  private constructor(
    private readonly process: ManagedChild,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(dir: string): Promise<PrivateRedis> {
    const port = await freePortIn(6380, 6399);
    const child = new ManagedChild({
      name: 'redis',
      command: 'redis-server',
      args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
      logFile: join(dir, 'redis.log'),
    });
    return new PrivateRedis(child, dir, port);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process.start();
    await waitFor(() => this.ping(), 20_000, 'the private Redis to answer');
  }

  async kill(): Promise<void> {
    await this.process.kill();
  }

  /** Starts it again after a kill: with `keepAof` false its data is gone, as after a disk loss. */
  async restart(keepAof: boolean): Promise<void> {
    if (this.process.running) await this.kill();
    if (!keepAof) {
      await rm(join(this.dir, 'appendonlydir'), { recursive: true, force: true });
      await rm(join(this.dir, 'dump.rdb'), { force: true });
    }
    await this.start();
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }

  private async ping(): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}
