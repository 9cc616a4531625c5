import type { ResultMessage } from '@snapdeck/contracts';

/** Where the job runner sends STARTED and FINISHED messages; an abstract class so it is also the DI token. */
export abstract class ResultSink {
  /** Resolves once the message is stored; rejects if it could not be, so the delivery fails and is retried. */
  abstract publish(message: ResultMessage): Promise<void>;
}
