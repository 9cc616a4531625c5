import { performance } from 'node:perf_hooks';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { AgentConfig } from '@snapdeck/config';
import type { JobEnvelope, JobOutcome } from '@snapdeck/contracts';
import { PinoLogger } from 'nestjs-pino';
import { Clock } from '../clock.js';
import { HandlerRegistry } from '../handlers/handler-registry.js';
import { finishedMessage, type ResultAddress, startedMessage } from '../results/result-messages.js';
import { ResultSink } from '../results/result-sink.js';
import { DeliveryFence } from '../transport/transport-ports.js';
import { describeError } from './error-message.js';
import { type ParsedDelivery, parseDelivery } from './job-envelope.js';
import { RunningJobs } from './running-jobs.js';

/** One queue job as the worker hands it over. */
export interface Delivery {
  /** The queue's id of this delivery (the api uses `<jobId>.<attempt>`); for log lines. */
  id: string | undefined;
  name: string;
  data: unknown;
}

/** A delivery that can never succeed and cannot be answered either (no usable jobId); it is not retried. */
export class MalformedDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedDeliveryError';
  }
}

/**
 * Runs one delivery: the fence check, STARTED, the handler, FINISHED with its outcome. A delivery whose attempt is
 * no longer the job's current open one is not run and reports nothing. A handler failure, expected or not,
 * becomes a failed outcome; a failure to check the fence or to store a result rejects, so that the queue retries
 * the delivery (handlers are idempotent, so running one again is safe).
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger(JobRunner.name);

  constructor(
    private readonly registry: HandlerRegistry,
    private readonly results: ResultSink,
    private readonly config: AgentConfig,
    private readonly clock: Clock,
    private readonly running: RunningJobs,
    private readonly fence: DeliveryFence,
    // Present when the agent logs through pino (see logging/); absent in unit tests and with a Nest logger.
    @Optional() private readonly pino?: PinoLogger,
  ) {}

  /**
   * Every line logged while the delivery runs, here, in its handler or in the driver, carries `jobId`,
   * `attempt`, `jobName` and `host` as fields (a pino child logger in AsyncLocalStorage).
   */
  run(delivery: Delivery): Promise<JobOutcome> {
    const parsed = parseDelivery(delivery.name, delivery.data);
    const address = parsed.ok ? parsed.envelope : parsed.replyTo;
    const bindings = address
      ? { jobId: address.jobId, attempt: address.attempt, jobName: address.name, host: this.hostName }
      : { deliveryId: delivery.id, host: this.hostName };
    const run = () => this.runParsed(delivery, parsed);
    return this.pino ? this.pino.runInContext(run, { bindings }) : run();
  }

  private async runParsed(delivery: Delivery, parsed: ParsedDelivery): Promise<JobOutcome> {
    if (!parsed.ok) {
      const reason = `Malformed job: ${parsed.reason}`;
      this.logger.error(`Delivery ${delivery.id ?? '?'} refused: ${reason}`);
      if (!parsed.replyTo) throw new MalformedDeliveryError(reason);
      const outcome: JobOutcome = { ok: false, message: reason, retryable: false };
      await this.publish(finishedMessage(parsed.replyTo, this.hostName, outcome, this.clock.now()), parsed.replyTo);
      return outcome;
    }

    const { envelope } = parsed;
    const address: ResultAddress = { jobId: envelope.jobId, attempt: envelope.attempt, name: envelope.name };
    if (!(await this.isCurrent(envelope))) return NOT_RUN;
    this.logger.log(`Job ${envelope.jobId} started: ${envelope.name}, attempt ${envelope.attempt}`);
    await this.publishStarted(startedMessage(address, this.hostName, this.clock.now()), address);

    const began = performance.now();
    this.running.add(envelope.jobId, envelope.attempt);
    const outcome = await this.handle(envelope).finally(() => this.running.remove(envelope.jobId, envelope.attempt));
    const took = `${Math.round(performance.now() - began)} ms`;

    await this.publish(finishedMessage(address, this.hostName, outcome, this.clock.now()), address);
    if (outcome.ok) {
      this.logger.log(
        `Job ${envelope.jobId} finished: ${envelope.name} succeeded in ${took}${suffix(outcome.message)}`,
      );
    } else {
      this.logger.warn(`Job ${envelope.jobId} finished: ${envelope.name} failed in ${took}: ${outcome.message}`);
    }
    return outcome;
  }

  /**
   * Before the handler touches a disk: a stale attempt (the job was failed, finished, or sent again since this
   * delivery was queued or taken) is logged and dropped. Its result could only be ignored by the api, and the work
   * could undo what the current attempt did (a tag taken for a snapshot that is ERROR, one removed that is kept).
   */
  private async isCurrent(envelope: JobEnvelope): Promise<boolean> {
    let verdict: 'current' | 'stale' | 'unknown';
    try {
      verdict = await this.fence.check(envelope.jobId, envelope.attempt);
    } catch (error) {
      this.logger.error(`Job ${envelope.jobId}: could not check its fence (${describeError(error)}); retried`);
      throw error;
    }
    if (verdict === 'stale') {
      this.logger.warn(
        `Job ${envelope.jobId}: attempt ${envelope.attempt} is no longer current (failed, finished or sent again): not run`,
      );
      return false;
    }
    if (verdict === 'unknown') this.logger.warn(`Job ${envelope.jobId}: no fence found (Redis lost it?): run anyway`);
    return true;
  }

  /** STARTED is news, not a duty: a lost one costs nothing (heartbeats keep the lease, FINISHED closes the job). */
  private async publishStarted(message: Parameters<ResultSink['publish']>[0], address: ResultAddress): Promise<void> {
    try {
      await this.results.publish(message);
    } catch (error) {
      this.logger.warn(`Job ${address.jobId}: its STARTED result was not published (${describeError(error)})`);
    }
  }

  /** The safety net under every handler: an exception is a bug, reported as a readable failure, logged with its stack. */
  private async handle(envelope: JobEnvelope): Promise<JobOutcome> {
    try {
      return await this.registry.handle(envelope.name, envelope.payload, {
        jobId: envelope.jobId,
        attempt: envelope.attempt,
      });
    } catch (error) {
      this.logger.error(`Job ${envelope.jobId}: the ${envelope.name} handler threw`, stackOf(error));
      return {
        ok: false,
        message: `Unexpected error in the agent while running ${envelope.name}: ${describeError(error)}`,
      };
    }
  }

  private async publish(message: Parameters<ResultSink['publish']>[0], address: ResultAddress): Promise<void> {
    try {
      await this.results.publish(message);
    } catch (error) {
      this.logger.error(
        `Job ${address.jobId}: could not publish its ${message.kind} result (${describeError(error)}); ` +
          'the delivery fails so that the queue retries it',
      );
      throw error;
    }
  }

  private get hostName(): string {
    return this.config.AGENT_HOST_NAME;
  }
}

/** What run() answers for a stale delivery: nothing ran, nothing was reported. */
const NOT_RUN: JobOutcome = { ok: false, message: 'Not run: this attempt is no longer current', retryable: false };

function suffix(message: string | undefined): string {
  return message ? ` (${message})` : '';
}

/** For the log only; never sent in a result. */
function stackOf(error: unknown): string | undefined {
  const stack = typeof error === 'object' && error !== null ? (error as { stack?: unknown }).stack : undefined;
  return typeof stack === 'string' ? stack : undefined;
}
