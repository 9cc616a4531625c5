import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The compiled lock (npm test builds before the integration tier), for child processes that cannot load TypeScript. */
const BUILT_LOCK = resolve(import.meta.dirname, '../dist/instance-lock.js');

describe('InstanceLock across processes', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapdeck-lock-'));
    file = join(dir, 'snapdeck.pid');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('lets exactly one of several starts racing for a stale file through', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('exit', resolve));
    await writeFile(file, JSON.stringify({ pid: dead.pid, startedAt: '2026-11-22T00:00:00Z' }));
    // Separate processes, as two `npm start`s would be; they take the lock, report, and hold it a while.
    const script = `
      const { InstanceLock } = await import(${JSON.stringify(BUILT_LOCK)});
      try { await InstanceLock.acquire(${JSON.stringify(file)}); console.log('held'); await new Promise((r) => setTimeout(r, 1500)); }
      catch (error) { console.log('refused: ' + error.message); }`;
    const outputs = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
            child.on('exit', () => resolve(out.trim()));
          }),
      ),
    );
    expect(outputs.filter((o) => o === 'held')).toHaveLength(1);
    expect(outputs.filter((o) => o.startsWith('refused'))).toHaveLength(2);
  });
});
