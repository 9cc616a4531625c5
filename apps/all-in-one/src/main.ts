import { Logger } from '@nestjs/common';
import { startAllInOne, type RunningAllInOne } from './all-in-one.js';
import { AlreadyRunningError } from './instance-lock.js';

// `npm start`: Snapdeck in one process, on an embedded PostgreSQL unless DATABASE_URL is set.
const logger = new Logger('Snapdeck');
const out = { log: (line: string) => logger.log(line), warn: (line: string) => logger.warn(line) };

let running: RunningAllInOne;
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
out.log(`GraphQL: ${running.graphqlUrl}`);
out.log(`administrator token: ${running.adminToken}`);
if (running.demo) {
  out.log(`demo organization${running.demo.created ? ' created' : ''}; its ORG_ADMIN token: ${running.demo.token}`);
}
out.log('ready — Ctrl-C stops Snapdeck and its database');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      out.warn('Still stopping: waiting for running jobs to finish and the database to shut down');
      return;
    }
    stopping = true;
    out.log(`${signal}: stopping — running jobs finish first`);
    void running.close().then(
      () => {
        out.log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error(`Stopping failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  });
}
