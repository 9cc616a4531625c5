import type { INestApplicationContext, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AgentConfig } from '@snapdeck/config';
import { AgentModule } from './agent.module.js';
import { AgentRunner } from './agent-runner.service.js';

export interface StartAgentOptions {
  /** Nest's logger option: `false` silences the agent (Nest's logger is process-wide). */
  logger?: LoggerService | LogLevel[] | false;
  /** How long start-up waits for Redis before rejecting; 30 s by default. */
  redisTimeoutMs?: number;
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
  const app = await NestFactory.createApplicationContext(AgentModule.forRoot(config), {
    abortOnError: false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
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
