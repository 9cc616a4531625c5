import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import type { InProcessBus } from '@snapdeck/transport';
import { AgentRunner } from './agent-runner.service.js';
import { Clock } from './clock.js';
import { AgentDrivers } from './drivers/agent-drivers.js';
import { createDrivers } from './drivers/driver-factory.js';
import { VolumeDriver } from './drivers/volume-driver.js';
import { createHandlers, HandlerRegistry } from './handlers/index.js';
import { HeartbeatService } from './heartbeat/heartbeat.service.js';
import { InterruptedImagesCheck } from './images/interrupted-images.service.js';
import { RunningJobs } from './jobs/running-jobs.js';
import { SnapshotSlots } from './jobs/snapshot-slots.js';
import { JobRunner } from './jobs/job-runner.js';
import { JobWorker } from './jobs/job-worker.service.js';
import { RedisDeliveryFence } from './jobs/redis-delivery-fence.js';
import { RedisConnections } from './redis/redis-connections.js';
import { ResultPublisher } from './results/result-publisher.service.js';
import { ResultSink } from './results/result-sink.js';
import {
  InProcessConnections,
  InProcessAgentEventSink,
  InProcessDeliveryFence,
  InProcessJobSource,
  InProcessResultSink,
} from './transport/in-process-transport.js';
import { QueueAgentEventSink } from './transport/queue-agent-event-sink.js';
import { AgentEventSink, DeliveryFence, JobSource, TransportConnections } from './transport/transport-ports.js';

export interface AgentRuntime {
  /** Set in an all-in-one process: the api is reached through it instead of Redis. */
  bus?: InProcessBus;
}

/**
 * The hypervisor agent. Built from a config object rather than from process.env so that tests can boot
 * several agents in one process, each with its own host name, storage and queue prefix.
 */
@Module({})
export class AgentModule {
  static forRoot(config: AgentConfig, runtime: AgentRuntime = {}): DynamicModule {
    return {
      module: AgentModule,
      providers: [
        { provide: AgentConfig, useValue: config },
        { provide: AgentDrivers, useFactory: () => createDrivers(config) },
        { provide: VolumeDriver, inject: [AgentDrivers], useFactory: (drivers: AgentDrivers) => drivers.volumes },
        { provide: SnapshotSlots, useFactory: () => new SnapshotSlots(config.AGENT_MAX_CONCURRENT_SNAPSHOTS) },
        {
          provide: HandlerRegistry,
          inject: [AgentDrivers, SnapshotSlots],
          useFactory: (drivers: AgentDrivers, slots: SnapshotSlots) =>
            new HandlerRegistry(createHandlers(drivers, slots)),
        },
        Clock,
        RunningJobs,
        JobRunner,
        HeartbeatService,
        InterruptedImagesCheck,
        AgentRunner,
        ...(runtime.bus ? inProcessTransport(runtime.bus, config) : redisTransport(config)),
      ],
    };
  }
}

/** The cluster stack: BullMQ queues on Redis. */
function redisTransport(config: AgentConfig): Provider[] {
  return [
    { provide: RedisConnections, useFactory: () => new RedisConnections(config.REDIS_URL) },
    { provide: TransportConnections, useExisting: RedisConnections },
    ResultPublisher,
    { provide: ResultSink, useExisting: ResultPublisher },
    JobWorker,
    { provide: JobSource, useExisting: JobWorker },
    QueueAgentEventSink,
    { provide: AgentEventSink, useExisting: QueueAgentEventSink },
    RedisDeliveryFence,
    { provide: DeliveryFence, useExisting: RedisDeliveryFence },
  ];
}

/** An all-in-one process: the api is beside the agent. */
function inProcessTransport(bus: InProcessBus, config: AgentConfig): Provider[] {
  return [
    { provide: TransportConnections, useValue: new InProcessConnections() },
    { provide: ResultSink, useValue: new InProcessResultSink(bus) },
    { provide: AgentEventSink, useValue: new InProcessAgentEventSink(bus) },
    { provide: DeliveryFence, useValue: new InProcessDeliveryFence(bus) },
    {
      provide: JobSource,
      inject: [JobRunner],
      useFactory: (runner: JobRunner) => new InProcessJobSource(bus, config, runner),
    },
  ];
}
