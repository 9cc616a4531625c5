import 'reflect-metadata';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ApiConfig } from '@snapdeck/config';
import type { InProcessBus } from '@snapdeck/transport';
import type { Server } from 'node:http';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module.js';
import { BODY_LIMIT_BYTES, bodyErrorHandler } from './common/body-errors.js';
import { createValidationPipe } from './common/validation.pipe.js';
import { LoggingApiModule } from './logging/logging.module.js';

export interface StartApiOptions {
  /** `false` silences the api (Nest's logger is process-wide); otherwise it writes pino JSON lines. */
  logger?: false;
  /** Where the JSON lines go instead of stdout (tests read them back). */
  logDestination?: DestinationStream;
  /** All-in-one: reach a co-located agent through this bus instead of Redis. */
  bus?: InProcessBus;
  /** Close on SIGTERM/SIGINT (default); an all-in-one process orders its own shutdown instead. */
  shutdownHooks?: boolean;
}

/** Builds the api for a configuration and starts listening; `main.ts` and the tests share it. */
export async function startApi(config: ApiConfig, options: StartApiOptions = {}): Promise<INestApplication> {
  const api = AppModule.forRoot(config, { bus: options.bus });
  const logging = options.logger !== false;
  const app = await NestFactory.create<NestExpressApplication>(
    logging ? LoggingApiModule.wrap(api, config, options.logDestination) : api,
    {
      logger: options.logger ?? undefined,
      // Start-up lines wait for pino rather than going to Nest's console logger.
      bufferLogs: logging,
    },
  );
  if (logging) app.useLogger(app.get(Logger));
  // Whose X-Forwarded-For to believe for req.ip (the failed-authentication limit counts per client address).
  app.set('trust proxy', config.TRUST_PROXY);
  // Nest's own parsers, registered here so that the handler after them answers their errors (an oversized
  // or malformed body) as GraphQL-shaped JSON; Nest then adds no parsers of its own.
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES });
  app.useBodyParser('urlencoded', { extended: true, limit: BODY_LIMIT_BYTES });
  app.use(bodyErrorHandler);
  app.useGlobalPipes(createValidationPipe());
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  await app.listen(config.PORT, config.HOST);
  const server: Server = app.getHttpServer();
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_SECONDS * 1000;
  // Node requires the headers timeout to outlast the keep-alive one, or it cuts a slow reused connection first.
  server.headersTimeout = server.keepAliveTimeout + 1000;
  return app;
}
