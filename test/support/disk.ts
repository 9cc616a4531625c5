import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export function volumePath(storageDir: string, volumeId: string): string {
  return join(storageDir, 'volumes', `${volumeId}.qcow2`);
}

/** The snapshot tags of a volume file, read with `qemu-img snapshot -l` as an operator would. */
export async function diskSnapshotTags(storageDir: string, volumeId: string): Promise<string[]> {
  const { stdout } = await exec('qemu-img', ['snapshot', '-l', '-U', volumePath(storageDir, volumeId)]);
  // Rows after the header: "ID  TAG  VM SIZE  DATE  VM CLOCK  ICOUNT"
  return stdout
    .split('\n')
    .slice(2)
    .map((line) => line.trim().split(/\s+/)[1])
    .filter((tag): tag is string => Boolean(tag));
}

export async function diskInfo(
  storageDir: string,
  volumeId: string,
): Promise<{ format: string; 'virtual-size': number }> {
  const { stdout } = await exec('qemu-img', [
    'info',
    '-f',
    'qcow2',
    '-U',
    '--output=json',
    volumePath(storageDir, volumeId),
  ]);
  return JSON.parse(stdout) as { format: string; 'virtual-size': number };
}
