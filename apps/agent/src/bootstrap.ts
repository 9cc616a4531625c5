import type { INestApplicationContext, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AgentConfig } from '@snapdeck/config';
import type { InProcessBus } from '@snapdeck/transport';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AgentModule } from './agent.module.js';
import { AgentRunner } from './agent-runner.service.js';
import { LoggingAgentModule } from './logging/logging.module.js';

export interface StartAgentOptions {
  /**
   * Nest's logger option: `false` silences the agent (Nest's logger is process-wide), a logger or levels
   * replace pino. Unset, the agent writes pino JSON lines (LOG_LEVEL, LOG_FORMAT).
   */
  logger?: LoggerService | LogLevel[] | false;
  /** Where the pino lines go instead of stdout, when `logger` is unset (tests read them back). */
  logDestination?: DestinationStream;
  /** How long start-up waits for Redis before rejecting; 30 s by default. */
  redisTimeoutMs?: number;
  /** All-in-one: reach an api in this process through this bus instead of Redis. */
  bus?: InProcessBus;
}

export interface RunningAgent {
  readonly app: INestApplicationContext;
  /** Stops the heartbeat, lets running jobs finish and report, closes queues and connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an agent in this process; main.ts and the end-to-end tests both use it. Resolves once the agent
 * consumes its host queue and its first heartbeat is stored; rejects (leaving nothing open) if it cannot start.
 */
export async function startAgent(config: AgentConfig, options: StartAgentOptions = {}): Promise<RunningAgent> {
  // abortOnError: false makes a bad configuration (e.g. the libvirt driver) a rejected promise, not process.abort().
  const agent = AgentModule.forRoot(config, { bus: options.bus });
  const logging = options.logger === undefined;
  const root = logging ? LoggingAgentModule.wrap(agent, config, options.logDestination) : agent;
  const app = await NestFactory.createApplicationContext(root, {
    abortOnError: false,
    // With pino, start-up lines wait for it rather than going to Nest's console logger.
    ...(logging ? { bufferLogs: true } : { logger: options.logger }),
  });
  if (logging) app.useLogger(app.get(Logger));
  try {
    await app.get(AgentRunner).start({ redisTimeoutMs: options.redisTimeoutMs });
  } catch (error) {
    await app.close();
    throw error;
  }
  // Nest runs its shutdown sequence again on a second close(); the agent's close happens once.
  let closing: Promise<void> | undefined;
  return { app, close: () => (closing ??= app.close()) };
}

/**
 * Parts of a running agent that an embedding process or a test reaches through `app.get`: the fence asked before
 * a delivery runs, the volume driver, and the heartbeat (a test freezes an agent by stopping it).
 */
export { DeliveryFence } from './transport/transport-ports.js';
export { VolumeDriver } from './drivers/volume-driver.js';
export { HeartbeatService } from './heartbeat/heartbeat.service.js';
