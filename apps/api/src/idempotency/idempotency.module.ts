import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IdempotencyKeysPruner } from './idempotency-keys.pruner.js';

/** `Idempotency-Key` on mutations: recorded with the work, replayed on a retry, pruned after 24 h. */
@Module({
  providers: [{ provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor }, IdempotencyKeysPruner],
})
export class IdempotencyModule {}
