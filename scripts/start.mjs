// npm start — runs Snapdeck on this machine: the api and one co-located agent, as two processes.
// Needs PostgreSQL and Redis (defaults: postgres://postgres@127.0.0.1:5432/snapdeck, redis://127.0.0.1:6379);
// creates the database if it does not exist. The agent uses qemu-img when it is on PATH, else the simulator.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';

const root = resolve(import.meta.dirname, '..');
const stateDir = join(root, '.snapdeck');
mkdirSync(stateDir, { recursive: true });

const env = { ...process.env };
env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/snapdeck';
env.REDIS_URL ??= 'redis://127.0.0.1:6379';
env.AGENT_STORAGE_DIR ??= join(stateDir, 'primary');
env.SECONDARY_STORAGE_DIR ??= join(stateDir, 'secondary');
env.AGENT_HOST_NAME ??= 'kvm-local';

// A stable admin token for this checkout, so scripts keep working across restarts.
const tokenFile = join(stateDir, 'admin-token');
if (!env.SNAPDECK_ADMIN_TOKEN) {
  if (!existsSync(tokenFile))
    writeFileSync(tokenFile, `sdk_admin_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  env.SNAPDECK_ADMIN_TOKEN = readFileSync(tokenFile, 'utf8').trim();
}

if (!env.AGENT_DRIVER) {
  const hasQemuImg = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;
  env.AGENT_DRIVER = hasQemuImg ? 'qemu-img' : 'simulator';
  console.log(
    hasQemuImg
      ? 'agent driver: qemu-img (real qcow2 images)'
      : 'agent driver: simulator — qemu-img is not on PATH (apt-get install qemu-utils for real images)',
  );
}

async function ensureDatabase(url) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
  } catch (error) {
    console.error(`Cannot reach PostgreSQL at ${admin.host}: ${error.message}\nStart it, or set DATABASE_URL.`);
    process.exit(1);
  }
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (rowCount === 0) {
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    console.log(`created database ${name}`);
  }
  await client.end();
}

await ensureDatabase(env.DATABASE_URL);

const children = [
  spawn(process.execPath, [join(root, 'apps/api/dist/main.js')], { env, stdio: 'inherit' }),
  spawn(process.execPath, [join(root, 'apps/agent/dist/main.js')], { env, stdio: 'inherit' }),
];
console.log(`GraphQL: http://localhost:${env.PORT ?? 3000}/graphql — admin token: ${env.SNAPDECK_ADMIN_TOKEN}`);

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
for (const child of children) {
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`a Snapdeck process exited (code ${code}); stopping the other`);
      process.exitCode = code ?? 1;
      stop('SIGTERM');
    }
  });
}
