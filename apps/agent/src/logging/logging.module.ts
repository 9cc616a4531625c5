import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { baseLoggerOptions, logDestination, type LogSettings } from '@snapdeck/logging';

/**
 * nestjs-pino without HTTP: Nest's `Logger` writes pino JSON lines, and JobRunner binds each job's fields
 * (jobId, attempt, jobName, host) to every line written while that job runs, through AsyncLocalStorage.
 *
 * nestjs-pino keeps ONE root logger per process, made by the first LoggerModule that starts: beside an api in
 * the same process, the agent writes through the api's.
 */
export function agentLoggerModule(settings: LogSettings, destination?: DestinationStream): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: [baseLoggerOptions(settings), logDestination(settings.LOG_FORMAT, destination)],
  });
}

/** The root of a logging agent process: nestjs-pino beside the agent's own module graph. */
@Module({})
export class LoggingAgentModule {
  static wrap(agent: DynamicModule, settings: LogSettings, destination?: DestinationStream): DynamicModule {
    return { module: LoggingAgentModule, imports: [agentLoggerModule(settings, destination), agent] };
  }
}
