import { loadAgentConfig } from '@snapdeck/config';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeStorage } from './storage-probe.js';

/** The storage a heartbeat reports, read from a real file system. */
describe('probeStorage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapdeck-probe-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports the total and available bytes of the file system holding AGENT_STORAGE_DIR', async () => {
    const report = await probeStorage(loadAgentConfig({ AGENT_STORAGE_DIR: dir, AGENT_DRIVER: 'qemu-img' }));
    const stats = await statfs(dir);
    expect(report).not.toBeNull();
    expect(report!.totalBytes).toBe(stats.blocks * stats.bsize);
    expect(report!.totalBytes).toBeGreaterThan(0);
    expect(report!.freeBytes).toBeGreaterThan(0);
    expect(report!.freeBytes).toBeLessThanOrEqual(report!.totalBytes);
  });

  it('before the folder exists, reports the file system it will be made on', async () => {
    const report = await probeStorage(
      loadAgentConfig({ AGENT_STORAGE_DIR: join(dir, 'not', 'yet'), AGENT_DRIVER: 'qemu-img' }),
    );
    const stats = await statfs(dir);
    expect(report?.totalBytes).toBe(stats.blocks * stats.bsize);
  });

  it('the simulator reports SIMULATOR_STORAGE_BYTES, all free', async () => {
    const report = await probeStorage(
      loadAgentConfig({ AGENT_STORAGE_DIR: dir, AGENT_DRIVER: 'simulator', SIMULATOR_STORAGE_BYTES: '77309411328' }),
    );
    expect(report).toEqual({ totalBytes: 77309411328, freeBytes: 77309411328 });
  });
});
