import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ApiMetrics } from './api-metrics.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';

/** Prometheus exposition: behind METRICS_TOKEN when it is set, open like /health otherwise. */
@Controller()
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: ApiMetrics) {}

  @Get('metrics')
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    res.type(contentType).send(body);
  }
}
