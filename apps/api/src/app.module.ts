import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { InProcessBus } from '@snapdeck/transport';
import { AuthModule } from './auth/auth.module.js';
import { BackupSchedulesModule } from './backup-schedules/backup-schedules.module.js';
import { BackupsModule } from './backups/backups.module.js';
import { API_CONFIG, type ApiConfig } from './config.js';
import { DatabaseModule } from './database/database.module.js';
import { EnvironmentsModule } from './environments/environments.module.js';
import { GraphiqlModule } from './graphiql/graphiql.module.js';
import { graphqlModule } from './graphql/graphql.module.js';
import { PassthroughExceptionFilter } from './graphql/passthrough-exception.filter.js';
import { HealthModule } from './health/health.module.js';
import { HostsModule } from './hosts/hosts.module.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { InstanceSnapshotsModule } from './instance-snapshots/instance-snapshots.module.js';
import { InstancesModule } from './instances/instances.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NodesResolver } from './nodes/nodes.resolver.js';
import { OrchestrationModule } from './orchestration/orchestration.module.js';
import { IN_PROCESS_BUS } from './orchestration/tokens.js';
import { OrganizationsModule } from './organizations/organizations.module.js';
import { ProvisioningModule } from './provisioning/provisioning.module.js';
import { QueueDashboardModule } from './queue-dashboard/queue-dashboard.module.js';
import { SnapshotPoliciesModule } from './snapshot-policies/snapshot-policies.module.js';
import { SnapshotsModule } from './snapshots/snapshots.module.js';
import { SubscriptionsModule } from './subscriptions/subscriptions.module.js';
import { StorageAuditsModule } from './storage-audits/storage-audits.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { TemplatesModule } from './templates/templates.module.js';
import { UsersModule } from './users/users.module.js';
import { ViewerResolver } from './viewer/viewer.resolver.js';
import { EventsResolver } from './events/events.resolver.js';
import { VolumesModule } from './volumes/volumes.module.js';

export interface AppRuntime {
  /** Set in an all-in-one process: agents are reached through it instead of Redis. */
  bus?: InProcessBus;
}

@Module({})
export class AppModule {
  /** The whole api for one validated configuration (tests boot it with their own). */
  static forRoot(config: ApiConfig, runtime: AppRuntime = {}): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        DatabaseModule.forRoot(),
        OrchestrationModule,
        AuthModule,
        graphqlModule(),
        GraphiqlModule,
        HealthModule,
        MetricsModule,
        IdempotencyModule,
        OrganizationsModule,
        UsersModule,
        EnvironmentsModule,
        HostsModule,
        InstancesModule,
        InstanceSnapshotsModule,
        VolumesModule,
        SnapshotsModule,
        SnapshotPoliciesModule,
        SubscriptionsModule,
        TemplatesModule,
        BackupsModule,
        BackupSchedulesModule,
        StorageAuditsModule,
        NotificationsModule,
        ProvisioningModule,
        JobsModule,
        QueueDashboardModule,
      ],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: IN_PROCESS_BUS, useValue: runtime.bus ?? null },
        { provide: APP_FILTER, useClass: PassthroughExceptionFilter },
        ViewerResolver,
        NodesResolver,
        EventsResolver,
      ],
      exports: [API_CONFIG, IN_PROCESS_BUS],
    };
  }
}
