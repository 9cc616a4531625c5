import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiMetrics } from './api-metrics.js';

/** Prometheus exposition. Unauthenticated, like /health: keep it on the internal network. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: ApiMetrics) {}

  @Get('metrics')
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    res.type(contentType).send(body);
  }
}
