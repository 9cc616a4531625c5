// How long BullMQ takes to hand a job held by a worker killed with SIGKILL to a worker started right after, with
// BullMQ's default lock settings and with the agent's (apps/agent/src/jobs/job-worker.service.ts: 10 s lock, 5 s
// stall check). On a private key prefix of REDIS_URL, removed afterwards. `node bench/stall-recovery.mjs`.
import { fork } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SETTINGS = {
  default: {},
  tuned: { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 2 },
};
const connection = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });

const [mode, role, prefix] = process.argv.slice(2);
if (role === 'holder') {
  // Takes the job and never finishes it; the parent kills this process once it holds the job.
  new Worker('q', () => (process.send('taken'), new Promise(() => {})), {
    connection: connection(),
    prefix,
    ...SETTINGS[mode],
  });
} else {
  for (const name of mode ? [mode] : Object.keys(SETTINGS)) console.log(`${name}: ${await measure(name)} s`);
  process.exit(0);
}

async function measure(name) {
  const prefix = `bench-stall-${process.pid}-${Date.now()}`;
  const redis = connection();
  const queue = new Queue('q', { connection: redis, prefix });
  await queue.add('job', {});
  const holder = fork(import.meta.filename, [name, 'holder', prefix]);
  await new Promise((resolve) => holder.once('message', resolve));
  holder.kill('SIGKILL');
  const killedAt = Date.now();
  let worker;
  const seconds = await new Promise((resolve) => {
    worker = new Worker('q', async () => resolve(((Date.now() - killedAt) / 1000).toFixed(1)), {
      connection: connection(),
      prefix,
      ...SETTINGS[name],
    });
  });
  await worker.close();
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  return seconds;
}
