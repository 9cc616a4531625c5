// Decorator metadata drives the type conversion below: load the polyfill before the class is defined.
import 'reflect-metadata';
import { IsIn, IsInt, IsNumber, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from './logging.js';
import { validateEnvironment } from './validate.js';

export const AGENT_DRIVERS = ['qemu-img', 'libvirt', 'simulator'] as const;
export type AgentDriverName = (typeof AGENT_DRIVERS)[number];

/** Every variable the agent reads. */
export class AgentConfig {
  @IsString()
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  @IsString()
  @MinLength(1)
  QUEUE_PREFIX: string = 'snapdeck';

  /** The host record this agent answers for: the same name across restarts is the same host. */
  @Matches(/^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/, { message: 'AGENT_HOST_NAME must be a hostname label' })
  AGENT_HOST_NAME: string = 'kvm-1';

  @IsString()
  AGENT_STORAGE_DIR: string = './.snapdeck/primary';

  @IsString()
  SECONDARY_STORAGE_DIR: string = './.snapdeck/secondary';

  /**
   * One read of a file in secondary storage (an operator's image being imported) that takes longer fails its job
   * instead of holding it: an NFS server that went quiet, or a file that never delivers data.
   */
  @IsInt()
  @Min(1)
  AGENT_SECONDARY_READ_TIMEOUT_SECONDS: number = 60;

  @IsIn(AGENT_DRIVERS)
  AGENT_DRIVER: AgentDriverName = 'qemu-img';

  @IsString()
  AGENT_LIBVIRT_URI: string = 'qemu:///system';

  @IsInt()
  @Min(1)
  AGENT_HEARTBEAT_SECONDS: number = 10;

  /**
   * How often the result outbox publishes again what the api has not acknowledged yet (a result lost with a
   * Redis that lost its data, or dropped after the results queue's retries while PostgreSQL was down).
   */
  @IsInt()
  @Min(1)
  AGENT_RESULT_RESEND_SECONDS: number = 5;

  /** Jobs this agent runs at once. */
  @IsInt()
  @Min(1)
  @Max(64)
  AGENT_CONCURRENCY: number = 4;

  /**
   * Snapshot operations (create and delete a volume snapshot; create, revert and delete an instance snapshot) this
   * host runs at once, like CloudStack's concurrent.snapshots.threshold.perhost; more wait for a free slot.
   */
  @IsInt()
  @Min(1)
  AGENT_MAX_CONCURRENT_SNAPSHOTS: number = 2;

  /** Simulator driver: time each operation takes, in milliseconds. */
  @IsInt()
  @Min(0)
  SIMULATOR_LATENCY_MS: number = 50;

  /** Simulator driver: share of operations that fail, from 0 to 1. */
  @IsNumber()
  @Min(0)
  @Max(1)
  SIMULATOR_FAILURE_RATE: number = 0;

  /** Simulator driver: the size of the storage it reports with each heartbeat (default 1 PiB, all free). */
  @IsInt()
  @Min(0)
  SIMULATOR_STORAGE_BYTES: number = 2 ** 50;

  /** Lines below this level are not written. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'info';

  /** `json` (one object a line) or `pretty` (needs the pino-pretty dev dependency). */
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: LogFormat = 'json';
}

export function loadAgentConfig(env: Record<string, string | undefined>): AgentConfig {
  return validateEnvironment(AgentConfig, env);
}
