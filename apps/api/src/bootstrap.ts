import 'reflect-metadata';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ApiConfig } from '@snapdeck/config';
import type { InProcessBus } from '@snapdeck/contracts';
import { AppModule } from './app.module.js';
import { createValidationPipe } from './common/validation.pipe.js';

export interface StartApiOptions {
  logger?: false;
  /** All-in-one: reach a co-located agent through this bus instead of Redis. */
  bus?: InProcessBus;
}

/** Builds the api for a configuration and starts listening; `main.ts` and the tests share it. */
export async function startApi(config: ApiConfig, options: StartApiOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, { bus: options.bus }), {
    logger: options.logger ?? undefined,
    bufferLogs: false,
  });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  return app;
}
