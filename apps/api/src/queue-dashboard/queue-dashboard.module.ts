import { Module } from '@nestjs/common';
import { QueueDashboard } from './queue-dashboard.service.js';

/** Bull Board at /admin/queues for platform administrators, on the cluster stack (Redis) only. */
@Module({ providers: [QueueDashboard] })
export class QueueDashboardModule {}
