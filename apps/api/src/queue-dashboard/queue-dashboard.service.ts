import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { AGENT_EVENTS_QUEUE, hostQueueName, RESULTS_QUEUE } from '@snapdeck/contracts';
import type { InProcessBus } from '@snapdeck/transport';
import { Permission } from '@snapdeck/domain';
import { Database } from '@snapdeck/persistence';
import { Queue } from 'bullmq';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { AuthService } from '../auth/auth.service.js';
import { can } from '../auth/principal.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { allHostNames } from '../hosts/host-names.js';
import { IN_PROCESS_BUS, REDIS_CONNECTION } from '../orchestration/tokens.js';
import { DASHBOARD_REALM, dashboardToken } from './dashboard-credentials.js';

/** Where Bull Board is mounted on the api's HTTP server. */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** Refused sign-ins one client may make per window before it gets 429: tokens are not to be guessed here. */
export const DASHBOARD_FAILED_SIGN_INS = { limit: 30, windowMs: 15 * 60 * 1000 };

type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];
type Verdict = 'admitted' | 'unauthenticated' | 'forbidden';

/**
 * Bull Board over the queues of the cluster stack — `results`, `agent-events` and one `host-<name>` per host
 * row — for platform administrators only. Every request under the path, static assets included, is
 * authenticated first; the host queues are re-read from the database on each page or api call, so a host
 * that registers later shows up on the next refresh. Read-only: a job belongs to its Job row, whose
 * attempts and lease the reconciler keeps, so retrying or cleaning it behind the api's back is not offered.
 */
@Injectable()
export class QueueDashboard implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(QueueDashboard.name);
  private readonly queues = new Map<string, Queue>();
  private board: ReturnType<typeof createBullBoard> | null = null;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly db: Database,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(IN_PROCESS_BUS) private readonly bus: InProcessBus | null,
    @Inject(REDIS_CONNECTION) private readonly redis: Redis | null,
  ) {}

  /** On module init: after Nest registered its routes and before its not-found handler. */
  onModuleInit(): void {
    if (this.bus || !this.redis) {
      this.logger.log(`Queue dashboard not mounted at ${QUEUE_DASHBOARD_PATH}: agents are in-process, no Redis`);
      return;
    }
    const serverAdapter = new ExpressAdapter().setBasePath(QUEUE_DASHBOARD_PATH);
    this.board = createBullBoard({
      queues: [RESULTS_QUEUE, AGENT_EVENTS_QUEUE].map((name) => this.adapterOf(name)),
      // @bull-board/express 9.10.1 pins its own @bull-board/api 9.10.1 for its types; at run time it only
      // receives this board's routes and queues (api 9.10.2), so the two declarations are the same shape.
      serverAdapter: serverAdapter as unknown as BoardServerAdapter,
      options: { uiConfig: { boardTitle: 'Snapdeck queues' } },
    });
    // The board is an Express sub-app (typed `any` by bull-board); it sees nothing the gate has not admitted.
    const boardApp = serverAdapter.getRouter() as RequestHandler;
    const app = this.adapterHost.httpAdapter.getInstance<Express>();
    const refusedSignIns = rateLimit({
      ...DASHBOARD_FAILED_SIGN_INS,
      skipSuccessfulRequests: true, // only answers of 400 and above count: the gate's 401s and 403s
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      message: 'Too many refused sign-ins to the queue dashboard; wait and try again.\n',
    });
    app.use(QUEUE_DASHBOARD_PATH, refusedSignIns, (req, res, next) => this.admit(req, res, next), boardApp);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.close()));
  }

  private admit(req: Request, res: Response, next: NextFunction): void {
    this.verdict(req).then(
      (verdict) => {
        res.set('Cache-Control', 'no-store');
        if (verdict === 'admitted') return next();
        if (verdict === 'forbidden') {
          res.status(403).type('text/plain').send('The queue dashboard is for platform administrators.\n');
          return;
        }
        res
          .status(401)
          .set('WWW-Authenticate', `Basic realm="${DASHBOARD_REALM}", charset="UTF-8"`)
          .type('text/plain')
          .send('Sign in with an api token: as the Basic auth password, or as a bearer token.\n');
      },
      (error: unknown) => {
        // Not Express's default handler, which prints the stack outside production.
        this.logger.error(`Queue dashboard sign-in failed: ${(error as Error).message}`);
        if (!res.headersSent)
          res.status(500).type('text/plain').send('The queue dashboard cannot check sign-ins now.\n');
      },
    );
  }

  private async verdict(req: Request): Promise<Verdict> {
    const token = dashboardToken(req.headers.authorization);
    if (!token) return 'unauthenticated';
    const principal = await this.auth.authenticate(token);
    if (!principal) return 'unauthenticated';
    if (!can(principal, Permission.PLATFORM)) return 'forbidden';
    // Static assets do not list queues; pages and api calls do, so they see hosts registered since.
    if (!req.path.startsWith('/static/')) await this.addHostQueues();
    return 'admitted';
  }

  private async addHostQueues(): Promise<void> {
    const names = (await allHostNames(this.db.repos.hosts)).map(hostQueueName);
    // No await between the check and the insert: concurrent refreshes cannot open a queue twice.
    const added = names.filter((name) => !this.queues.has(name)).map((name) => this.adapterOf(name));
    if (added.length > 0) this.board?.setQueues(added);
  }

  private adapterOf(name: string): BullMQAdapter {
    const queue = new Queue(name, { connection: this.redis!, prefix: this.config.QUEUE_PREFIX });
    this.queues.set(name, queue);
    return new BullMQAdapter(queue, {
      readOnlyMode: true,
      description: `Redis keys ${this.config.QUEUE_PREFIX}:${name}:*`,
    });
  }
}
