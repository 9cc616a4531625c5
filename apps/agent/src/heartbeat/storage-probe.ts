import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { AgentConfig } from '@snapdeck/config';

export interface StorageReport {
  totalBytes: number;
  freeBytes: number;
}

/**
 * What the heartbeat reports of the host's primary storage: a statfs of AGENT_STORAGE_DIR (of the nearest
 * folder that exists, before the first volume makes it), or, for the simulator, which holds no files,
 * SIMULATOR_STORAGE_BYTES all free. Null when the storage cannot be read: the api then places nothing here.
 */
export async function probeStorage(config: AgentConfig): Promise<StorageReport | null> {
  if (config.AGENT_DRIVER === 'simulator') {
    return { totalBytes: config.SIMULATOR_STORAGE_BYTES, freeBytes: config.SIMULATOR_STORAGE_BYTES };
  }
  let dir = resolve(config.AGENT_STORAGE_DIR);
  for (;;) {
    try {
      const stats = await statfs(dir);
      // bavail, not bfree: what an unprivileged writer (qemu) can still use.
      return { totalBytes: stats.blocks * stats.bsize, freeBytes: stats.bavail * stats.bsize };
    } catch (error) {
      const parent = dirname(dir);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) return null;
      dir = parent;
    }
  }
}
