import type { ResultMessage } from '@snapdeck/contracts';

/** Where the job runner sends STARTED and FINISHED messages; an abstract class so it is also the DI token. */
export abstract class ResultSink {
  /** Opens whatever publishing needs; called once at start-up, before any job runs. */
  abstract start(): Promise<void>;
  /** Resolves once the message is stored; rejects if it could not be, so the delivery fails and is retried. */
  abstract publish(message: ResultMessage): Promise<void>;
  abstract close(): Promise<void>;
}
