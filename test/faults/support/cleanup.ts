import { rmSync } from 'node:fs';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Last-resort clean-up for a campaign that fails or is interrupted: every process it started is SIGKILLed and
 * every temp folder removed when jest's worker exits, even if afterAll never ran. Synchronous, since an `exit`
 * handler cannot wait.
 */
const onExit = new Map<number, () => void>();
let nextId = 0;
let hooked = false;

/** Registers a synchronous clean-up step; the returned function unregisters it (after a normal stop). */
export function atExit(step: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.once('exit', runExitSteps);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        runExitSteps();
        process.exit(130);
      });
    }
  }
  const id = nextId++;
  onExit.set(id, step);
  return () => onExit.delete(id);
}

/** Runs every registered step, newest first (processes before the folders they write into). */
export function runExitSteps(): void {
  for (const id of [...onExit.keys()].reverse()) {
    const step = onExit.get(id);
    onExit.delete(id);
    try {
      step?.();
    } catch {
      // Best effort: the next step must still run.
    }
  }
}

/** A temp folder removed at exit at the latest. Mode 0755: PostgreSQL and libvirt run as other users. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  atExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
