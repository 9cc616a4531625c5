import 'reflect-metadata';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ApiConfig } from '@snapdeck/config';
import { AppModule } from './app.module.js';
import { createValidationPipe } from './common/validation.pipe.js';

/** Builds the api for a configuration and starts listening; `main.ts` and the tests share it. */
export async function startApi(config: ApiConfig, options: { logger?: false } = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: options.logger ?? undefined,
    bufferLogs: false,
  });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  return app;
}
