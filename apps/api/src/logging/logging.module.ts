import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Level } from 'pino';
import { baseLoggerOptions, logDestination, type LogSettings } from '@snapdeck/logging';
import { requestIdFor } from './request-id.js';

/** Probes and scrapes: logged at debug, so that they do not drown the requests people make. */
const PROBE_PATHS = new Set(['/health', '/ready', '/metrics']);

const pathOf = (url: string | undefined): string => (url ?? '').split('?')[0];

/**
 * nestjs-pino for the api: every line is pino JSON, and a line written while serving a request (a resolver,
 * a service it calls, `new Logger(...)` anywhere) carries that request's `reqId` through AsyncLocalStorage.
 * Each request ends with one `request completed` line: method, path (no query string), status, time taken;
 * no headers and no body.
 *
 * nestjs-pino keeps ONE root logger per process, made by the first LoggerModule that starts: when the api and
 * an agent share a process, start the api first so that these settings hold for both.
 */
export function apiLoggerModule(settings: LogSettings, destination?: DestinationStream): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: [
      {
        ...baseLoggerOptions(settings),
        genReqId: requestIdFor,
        // Lines inside a request carry only `reqId`; the request itself is described once, when it ends.
        quietReqLogger: true,
        serializers: {
          req: (req: { method: string; url: string }) => ({ method: req.method, url: pathOf(req.url) }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error): Level => {
          if (error || res.statusCode >= 500) return 'error';
          if (res.statusCode >= 400) return 'warn';
          return PROBE_PATHS.has(pathOf(req.url)) ? 'debug' : 'info';
        },
      },
      logDestination(settings.LOG_FORMAT, destination),
    ],
  });
}

/** The root of a logging api process: nestjs-pino beside the api's own module graph. */
@Module({})
export class LoggingApiModule {
  static wrap(app: DynamicModule, settings: LogSettings, destination?: DestinationStream): DynamicModule {
    return { module: LoggingApiModule, imports: [apiLoggerModule(settings, destination), app] };
  }
}
