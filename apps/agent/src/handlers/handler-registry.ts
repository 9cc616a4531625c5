import { ALL_JOB_NAMES, type JobName, type JobOutcome, type JobPayloads } from '@snapdeck/contracts';
import type { JobContext, JobHandler } from './job-handler.js';

/**
 * Maps every job name to exactly one handler. Built once at start-up: a job name with no handler, or with
 * two, stops the agent there rather than failing jobs at run time.
 */
export class HandlerRegistry {
  private readonly handlers: ReadonlyMap<JobName, JobHandler>;

  constructor(handlers: readonly JobHandler[], jobNames: readonly JobName[] = ALL_JOB_NAMES) {
    const byName = new Map<JobName, JobHandler[]>();
    for (const handler of handlers) byName.set(handler.jobName, [...(byName.get(handler.jobName) ?? []), handler]);

    const problems: string[] = [];
    for (const name of jobNames) {
      const found = byName.get(name) ?? [];
      if (found.length === 0) problems.push(`no handler for job "${name}"`);
      if (found.length > 1)
        problems.push(`${found.length} handlers for job "${name}" (${found.map(className).join(', ')})`);
    }
    for (const [name, found] of byName) {
      if (!jobNames.includes(name)) problems.push(`${found.map(className).join(', ')} handles unknown job "${name}"`);
    }
    if (problems.length > 0) throw new Error(`The agent's job handlers are inconsistent: ${problems.join('; ')}`);

    this.handlers = new Map([...byName].map(([name, found]) => [name, found[0]]));
  }

  get jobNames(): JobName[] {
    return [...this.handlers.keys()];
  }

  handle<N extends JobName>(name: N, payload: JobPayloads[N], context: JobContext): Promise<JobOutcome<N>> {
    // The constructor proved there is exactly one handler per name, registered under its own jobName.
    const handler = this.handlers.get(name) as JobHandler<N> | undefined;
    if (!handler) throw new Error(`No handler for job "${name}"`);
    return handler.handle(payload, context);
  }
}

function className(handler: JobHandler): string {
  return handler.constructor.name;
}
