import { type DynamicModule, Module } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import { AgentRunner } from './agent-runner.service.js';
import { Clock } from './clock.js';
import { createVolumeDriver } from './drivers/driver-factory.js';
import { VolumeDriver } from './drivers/volume-driver.js';
import { HANDLER_TYPES, HandlerRegistry, type JobHandler } from './handlers/index.js';
import { HeartbeatService } from './heartbeat/heartbeat.service.js';
import { RunningJobs } from './jobs/running-jobs.js';
import { JobRunner } from './jobs/job-runner.js';
import { JobWorker } from './jobs/job-worker.service.js';
import { RedisConnections } from './redis/redis-connections.js';
import { ResultPublisher } from './results/result-publisher.service.js';
import { ResultSink } from './results/result-sink.js';

/**
 * The hypervisor agent. Built from a config object rather than from process.env so that tests can boot
 * several agents in one process, each with its own host name, storage and queue prefix.
 */
@Module({})
export class AgentModule {
  static forRoot(config: AgentConfig): DynamicModule {
    return {
      module: AgentModule,
      providers: [
        { provide: AgentConfig, useValue: config },
        { provide: VolumeDriver, useFactory: () => createVolumeDriver(config) },
        { provide: RedisConnections, useFactory: () => new RedisConnections(config.REDIS_URL) },
        ...HANDLER_TYPES,
        {
          provide: HandlerRegistry,
          useFactory: (...handlers: JobHandler[]) => new HandlerRegistry(handlers),
          inject: [...HANDLER_TYPES],
        },
        Clock,
        ResultPublisher,
        { provide: ResultSink, useExisting: ResultPublisher },
        RunningJobs,
        JobRunner,
        JobWorker,
        HeartbeatService,
        AgentRunner,
      ],
    };
  }
}
