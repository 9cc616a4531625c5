// Decorator metadata drives the type conversion below: load the polyfill before the class is defined.
import 'reflect-metadata';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { Transform } from 'class-transformer';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName } from './logging.js';
import { parseBoolean, validateEnvironment } from './validate.js';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

/**
 * Every variable the api reads. Defaults suit a developer machine with local PostgreSQL and Redis.
 * Types are spelled out: implicit conversion reads them from decorator metadata.
 */
export class ApiConfig {
  @IsString()
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/snapdeck';

  @IsString()
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  /** Prefix of every Redis key BullMQ writes, so several installations (or test runs) can share a server. */
  @IsString()
  @MinLength(1)
  QUEUE_PREFIX: string = 'snapdeck';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'development';

  /** When set, a platform administrator whose bearer token is this value is made sure to exist. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  SNAPDECK_ADMIN_TOKEN?: string;

  /** Apply pending migrations at start-up. */
  // Read the raw string: with implicit conversion on, `value` has already become Boolean('false') === true.
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  MIGRATIONS_RUN: boolean = true;

  /** A host whose last heartbeat is older than this is DOWN. */
  @IsInt()
  @Min(1)
  HOST_DOWN_AFTER_SECONDS: number = 60;

  /** How long a dispatched job may go without a result before the reconciler steps in. */
  @IsInt()
  @Min(1)
  JOB_LEASE_SECONDS: number = 300;

  /** Deliveries of one job before the reconciler fails it. */
  @IsInt()
  @Min(1)
  JOB_MAX_ATTEMPTS: number = 3;

  @IsInt()
  @Min(1)
  RECONCILE_INTERVAL_SECONDS: number = 15;

  /** How long stopInstance waits for the guest to shut down before it forces the instance off. */
  @IsInt()
  @Min(1)
  INSTANCE_STOP_TIMEOUT_SECONDS: number = 60;

  /** Query cost ceiling: a connection multiplies its children's cost by its page size. */
  @IsInt()
  @Min(1)
  GRAPHQL_MAX_COST: number = 20000;

  @IsInt()
  @Min(1)
  GRAPHQL_MAX_DEPTH: number = 10;

  /** Root fields one operation may select (fragments and aliases included): each is a lookup or a mutation. */
  @IsInt()
  @Min(1)
  GRAPHQL_MAX_ROOT_FIELDS: number = 20;

  /** Aliases one operation may use, at any depth (`__typename` aliases are free). */
  @IsInt()
  @Min(0)
  GRAPHQL_MAX_ALIASES: number = 20;

  /** Lines below this level are not written. */
  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'info';

  /** `json` (one object a line) or `pretty` (needs the pino-pretty dev dependency). */
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: LogFormat = 'json';
}

export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return validateEnvironment(ApiConfig, env);
}
