import { Global, Module } from '@nestjs/common';
import { ApiMetrics } from './api-metrics.js';
import { GraphqlMetricsPlugin } from './graphql-metrics.plugin.js';
import { MetricsController } from './metrics.controller.js';

/** Prometheus `/metrics`; global so the job results service can record durations without importing it. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [ApiMetrics, GraphqlMetricsPlugin],
  exports: [ApiMetrics],
})
export class MetricsModule {}
