import { ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { Database } from '@snapdeck/persistence';
import { JOB_DISPATCHER } from '../orchestration/job-dispatcher.js';
import { HealthController } from './health.controller.js';
import { DatabaseHealthIndicator, PROBE_TIMEOUT_MS, QueueHealthIndicator } from './health.indicators.js';

interface Dependencies {
  ping: () => Promise<void>;
  migrationsApplied: () => Promise<boolean>;
  queuePing: () => Promise<void>;
}

const healthy: Dependencies = {
  ping: () => Promise.resolve(),
  migrationsApplied: () => Promise.resolve(true),
  queuePing: () => Promise.resolve(),
};

async function controllerWith(deps: Partial<Dependencies>): Promise<HealthController> {
  const d = { ...healthy, ...deps };
  const moduleRef = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [
      DatabaseHealthIndicator,
      QueueHealthIndicator,
      { provide: Database, useValue: { ping: d.ping, migrationsApplied: d.migrationsApplied } },
      { provide: JOB_DISPATCHER, useValue: { ping: d.queuePing } },
    ],
  }).compile();
  return moduleRef.get(HealthController);
}

/** The 503 terminus answers with, and its body. */
async function unavailable(check: Promise<unknown>): Promise<Record<string, unknown>> {
  const error: unknown = await check.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceUnavailableException);
  const exception = error as ServiceUnavailableException;
  expect(exception.getStatus()).toBe(503);
  return exception.getResponse() as Record<string, unknown>;
}

describe('HealthController (terminus)', () => {
  it('is healthy and ready when the database, the queue and the migrations are', async () => {
    const controller = await controllerWith({});
    await expect(controller.check()).resolves.toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, queue: { status: 'up' } },
    });
    await expect(controller.ready()).resolves.toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, queue: { status: 'up' }, migrations: { status: 'up' } },
    });
  });

  it('answers 503 on /health and /ready when the database does not answer, naming it', async () => {
    const controller = await controllerWith({
      ping: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
      migrationsApplied: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
    });
    const health = await unavailable(controller.check());
    expect(health).toMatchObject({
      status: 'error',
      error: { database: { status: 'down' } },
      info: { queue: { status: 'up' } },
    });
    const ready = await unavailable(controller.ready());
    expect(ready).toMatchObject({ error: { database: { status: 'down' }, migrations: { status: 'down' } } });
  });

  it('answers 503 when Redis does not answer', async () => {
    const controller = await controllerWith({ queuePing: () => Promise.reject(new Error('Connection is closed.')) });
    expect(await unavailable(controller.check())).toMatchObject({
      error: { queue: { status: 'down' } },
      info: { database: { status: 'up' } },
    });
  });

  it(
    'counts a database that hangs as down once the probe times out',
    async () => {
      const controller = await controllerWith({ ping: () => new Promise<void>(() => undefined) });
      expect(await unavailable(controller.check())).toMatchObject({
        error: { database: { status: 'down' } },
        info: { queue: { status: 'up' } },
      });
    },
    PROBE_TIMEOUT_MS + 5000,
  );

  it('is alive but not ready while migrations are pending', async () => {
    const controller = await controllerWith({ migrationsApplied: () => Promise.resolve(false) });
    await expect(controller.check()).resolves.toMatchObject({ status: 'ok' });
    expect(await unavailable(controller.ready())).toMatchObject({
      error: { migrations: { status: 'down', message: 'pending migrations' } },
      info: { database: { status: 'up' }, queue: { status: 'up' } },
    });
  });
});
