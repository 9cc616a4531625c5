import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlreadyRunningError, InstanceLock } from './instance-lock.js';

describe('InstanceLock', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapdeck-lock-'));
    file = join(dir, 'snapdeck.pid');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('takes a free folder, records this process and where it answers, and gives it back', async () => {
    const lock = await InstanceLock.acquire(file);
    await lock.advertise('http://localhost:3000/graphql');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      pid: process.pid,
      graphqlUrl: 'http://localhost:3000/graphql',
    });
    await lock.release();
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  });

  it('refuses while a live process holds the folder, naming it and its URL', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(
        file,
        JSON.stringify({
          pid: holder.pid,
          startedAt: '2026-11-22T00:00:00Z',
          graphqlUrl: 'http://localhost:3000/graphql',
        }),
      );
      const refusal = await InstanceLock.acquire(file).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(AlreadyRunningError);
      expect((refusal as Error).message).toContain(`pid ${holder.pid}`);
      expect((refusal as Error).message).toContain('http://localhost:3000/graphql');
      // The holder's file is untouched.
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: holder.pid });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over a file left by a process that no longer exists (a crash)', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('exit', resolve));
    await writeFile(file, JSON.stringify({ pid: dead.pid, startedAt: '2026-11-22T00:00:00Z' }));
    const lock = await InstanceLock.acquire(file);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over an unreadable file once it stays unreadable', async () => {
    await writeFile(file, '');
    const lock = await InstanceLock.acquire(file);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('does not remove a file another process has taken meanwhile', async () => {
    const lock = await InstanceLock.acquire(file);
    await writeFile(file, JSON.stringify({ pid: 1, startedAt: 'later' }));
    await lock.release();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: 1 });
  });
});
