import { Logger } from '@nestjs/common';
import { startAllInOne, type RunningAllInOne } from './all-in-one.js';
import { AlreadyRunningError } from './instance-lock.js';

// `npm start`: Snapdeck in one process, on an embedded PostgreSQL unless DATABASE_URL is set.
const logger = new Logger('Snapdeck');
const out = { log: (line: string) => logger.log(line), warn: (line: string) => logger.warn(line) };

// Signals are taken from the first moment: one that comes during start-up stops Snapdeck once it is up, rather
// than killing the process and leaving the embedded database (a process of its own) running unowned.
let running: RunningAllInOne | undefined;
let stopSignal: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopSignal) {
      out.warn('Still stopping: waiting for running jobs to finish and the database to shut down');
      return;
    }
    stopSignal = signal;
    if (running) stop(running, signal);
    else out.log(`${signal}: stopping as soon as start-up has finished`);
  });
}

try {
  running = await startAllInOne(process.env, out);
} catch (error) {
  if (error instanceof AlreadyRunningError) logger.error(error.message);
  else logger.error(`Snapdeck could not start: ${(error as Error).message}`);
  process.exit(1);
}

out.log(`database: ${running.databaseDescription}`);
out.log(`jobs: ${running.transportDescription}`);
out.log(
  running.driver === 'simulator'
    ? 'agent driver: simulator — qemu-img is not on PATH (apt-get install qemu-utils for real qcow2 images)'
    : `agent driver: ${running.driver}`,
);
out.log(`GraphQL: ${running.graphqlUrl} · GraphiQL: ${running.graphiqlUrl}`);
out.log(
  running.nodeEnv === 'production'
    ? 'mode: production (no stack traces or schema hints in errors; NODE_ENV=development npm start shows them)'
    : `mode: ${running.nodeEnv} (NODE_ENV): errors carry stack traces`,
);
showTokens(running);
out.log('ready — Ctrl-C stops Snapdeck and its database');
if (stopSignal) stop(running, stopSignal);

/**
 * Tokens are bearer secrets: they go to a terminal, never into the log stream (stdout piped to a collector gets
 * only where they are kept).
 */
function showTokens({ adminToken, demo, tokenFiles }: RunningAllInOne): void {
  if (process.stdout.isTTY) {
    process.stdout.write(`\n  administrator token: ${adminToken}\n`);
    if (demo) process.stdout.write(`  demo organization's ORG_ADMIN token: ${demo.token}\n`);
    process.stdout.write('\n');
  }
  out.log(`administrator token in ${tokenFiles.admin}`);
  if (demo) out.log(`demo organization${demo.created ? ' created' : ''}; its ORG_ADMIN token in ${tokenFiles.demo}`);
}

function stop(app: RunningAllInOne, signal: NodeJS.Signals): void {
  out.log(`${signal}: stopping — running jobs finish first`);
  void app.close().then(
    () => {
      out.log('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error(`Stopping failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
