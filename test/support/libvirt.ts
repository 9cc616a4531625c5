import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The libvirt the e2e agents use (AGENT_LIBVIRT_URI's default). */
export const LIBVIRT_URI = 'qemu:///system';

/** The libvirt domain of an instance. */
export const domainOf = (instanceId: string) => `i-${instanceId}`;

/** stdout of `virsh -c qemu:///system <args>`; a failing virsh rejects with its stderr. */
export async function virsh(...args: string[]): Promise<string> {
  const { stdout } = await exec('virsh', ['-c', LIBVIRT_URI, ...args]);
  return stdout.trim();
}

/** What libvirt says of the domain (`running`, `shut off`), or null when it is not defined. */
export async function domainState(instanceId: string): Promise<string | null> {
  try {
    return await virsh('domstate', domainOf(instanceId));
  } catch (error) {
    if (/failed to get domain|Domain not found/i.test(String((error as { stderr?: string }).stderr))) return null;
    throw error;
  }
}

/**
 * A guest's write of `length` bytes of `pattern` at `offset` of disk `disk` (0 = vda), through HMP `qemu-io`
 * on the disk's device. HMP prints its errors as text with exit status 0: any output is a failure.
 */
export async function guestWrite(instanceId: string, pattern: string, length = '4M', offset = 0, disk = 0) {
  const device = `/machine/peripheral/virtio-disk${disk}/virtio-backend`;
  const out = await virsh(
    'qemu-monitor-command',
    domainOf(instanceId),
    '--hmp',
    `qemu-io -d ${device} "write -P ${pattern} ${offset} ${length}"`,
  );
  if (out !== '') throw new Error(`guest write of ${pattern} failed: ${out}`);
}

/** Whether the image holds `pattern` over `length` bytes at `offset`: qemu-io exits 1 when the data differ. */
export async function imageHolds(path: string, pattern: string, length = '4M', offset = 0): Promise<boolean> {
  try {
    await exec('qemu-io', ['-f', 'qcow2', '-c', `read -P ${pattern} ${offset} ${length}`, path]);
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 1) return false;
    throw error;
  }
}

/** Destroys and undefines the instances' domains, whatever state they are in (clean-up; errors ignored). */
export async function forgetDomains(instanceIds: Iterable<string>): Promise<void> {
  for (const id of instanceIds) {
    await virsh('destroy', domainOf(id)).catch(() => undefined);
    await virsh('undefine', domainOf(id), '--snapshots-metadata').catch(() => undefined);
  }
}

/** forgetDomains for a process exit handler, which cannot wait for a promise. */
export function forgetDomainsNow(instanceIds: Iterable<string>): void {
  for (const id of instanceIds) {
    for (const args of [
      ['destroy', domainOf(id)],
      ['undefine', domainOf(id), '--snapshots-metadata'],
    ]) {
      try {
        execFileSync('virsh', ['-c', LIBVIRT_URI, ...args], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // Already gone.
      }
    }
  }
}
