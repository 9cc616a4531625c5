import type { InstanceSize } from '@snapdeck/domain';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverError } from '../volume-driver.js';
import type { DomainDisks } from './domain-disks.js';
import { buildDomainXml, domainName, type DomainType, domainUuid } from './domain-xml.js';
import { type Virsh, VirshError } from './virsh.js';

export type InstanceState = 'RUNNING' | 'STOPPED' | 'PAUSED' | 'MISSING';

/** The instance's domain is not running (shut off or not defined): use the offline qemu-img driver instead. */
export class InstanceNotRunningError extends DriverError {
  constructor(
    readonly instanceId: string,
    readonly state: InstanceState,
  ) {
    super(`instance ${instanceId} is not running (${state}): a live operation needs a running domain`);
    this.name = 'InstanceNotRunningError';
  }
}

export interface DomainOptions {
  /** `auto` (default): kvm when libvirt's capabilities offer it (a usable /dev/kvm), else qemu. */
  domainType?: DomainType | 'auto';
  memoryMiB?: number;
  /** Host cache mode of the disks; default none (O_DIRECT). */
  cache?: 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';
  /** How often stop polls the domain's state. */
  pollIntervalMs?: number;
}

export interface StartResult {
  /** The domain was running already (a repeated delivery): nothing was changed. */
  alreadyRunning: boolean;
  domainType: DomainType;
}

export interface StopOptions {
  /** How long the guest has to power off after the ACPI request before it is destroyed. */
  timeoutMs: number;
}

export interface StopResult {
  /** The domain was stopped or not defined already: nothing was done. */
  alreadyStopped: boolean;
  /** The guest did not power off within the timeout (or was paused) and was destroyed. */
  forced: boolean;
}

/**
 * The life of the persistent libvirt domains (`i-<instanceId>`) that instances run as: define, start, stop,
 * undefine, their state, and QMP on a live one. See docs/live-snapshots.md ("Domain life").
 */
export class LibvirtDomains {
  private readonly requestedType: DomainType | 'auto';
  private resolvedType: DomainType | undefined;
  private readonly memoryMiB: number | undefined;
  private readonly cache: DomainOptions['cache'];
  private readonly pollIntervalMs: number;

  constructor(
    readonly virsh: Virsh,
    private readonly disks: DomainDisks,
    options: DomainOptions = {},
  ) {
    this.requestedType = options.domainType ?? 'auto';
    this.memoryMiB = options.memoryMiB;
    this.cache = options.cache;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
  }

  /** Checks libvirt answers and settles the domain type; a broken node refuses to start. */
  async init(): Promise<{ domainType: DomainType; version: string }> {
    const version = (await this.virsh.run(['version'])).trim().split('\n').slice(-1)[0]?.trim() ?? '';
    return { domainType: await this.domainType(), version };
  }

  /** kvm when asked, or on `auto` when libvirt's capabilities offer it; else qemu. */
  async domainType(): Promise<DomainType> {
    if (this.resolvedType) return this.resolvedType;
    if (this.requestedType !== 'auto') {
      this.resolvedType = this.requestedType;
    } else {
      const capabilities = await this.virsh.run(['capabilities']);
      this.resolvedType = /<domain type=['"]kvm['"]/.test(capabilities) ? 'kvm' : 'qemu';
    }
    return this.resolvedType;
  }

  domainName(instanceId: string): string {
    return domainName(instanceId);
  }

  async instanceState(instanceId: string): Promise<InstanceState> {
    const domain = domainName(instanceId);
    let text: string;
    try {
      text = (await this.virsh.run(['domstate', domain])).trim();
    } catch (error) {
      if (error instanceof VirshError && error.domainMissing) return 'MISSING';
      throw error;
    }
    switch (text) {
      case 'running':
      case 'idle':
      case 'blocked':
      case 'in shutdown':
        return 'RUNNING';
      case 'paused':
      case 'pmsuspended':
        return 'PAUSED';
      case 'shut off':
      case 'crashed':
        return 'STOPPED';
      default:
        throw new DriverError(`libvirt reports an unknown state "${text}" for instance ${instanceId}`);
    }
  }

  /**
   * Defines (or redefines, keeping its UUID and snapshot metadata) the instance's persistent domain with these
   * volumes, then starts it. Already running with the same disks is success; with other disks it is refused,
   * since a running domain's disks cannot be swapped here. A paused domain is resumed. Its vCPUs and memory are
   * `size` (the api's START_INSTANCE); without one, a defined domain keeps its own (a restart after a STOP-mode
   * backup) and a new one gets the agent's default.
   */
  async start(instanceId: string, volumePaths: readonly string[], size?: InstanceSize): Promise<StartResult> {
    const domain = domainName(instanceId);
    const domainType = await this.domainType();
    const state = await this.instanceState(instanceId);
    if (state === 'RUNNING' || state === 'PAUSED') {
      const disks = await this.disks.read(domain, false);
      const running = disks.map((d) => d.path);
      if (running.length !== volumePaths.length || running.some((path, i) => path !== volumePaths[i])) {
        throw new DriverError(
          `instance ${instanceId} is running with disks [${running.join(', ')}], not [${volumePaths.join(', ')}]: stop it first`,
        );
      }
      if (state === 'PAUSED') await this.virsh.run(['resume', domain]);
      return { alreadyRunning: state === 'RUNNING', domainType };
    }
    const uuid = state === 'MISSING' ? domainUuid(instanceId) : (await this.virsh.run(['domuuid', domain])).trim();
    const sized = size ?? (state === 'MISSING' ? undefined : await this.definedSize(domain));
    const xml = buildDomainXml({
      instanceId,
      volumePaths,
      domainType,
      uuid,
      ...(sized ? { memoryMiB: sized.memoryMiB, vcpus: sized.cpuCount } : {}),
      ...(!sized && this.memoryMiB !== undefined ? { memoryMiB: this.memoryMiB } : {}),
      ...(this.cache !== undefined ? { cache: this.cache } : {}),
    });
    await this.define(xml);
    try {
      await this.virsh.run(['start', domain]);
    } catch (error) {
      if (error instanceof VirshError && /already running|already active/i.test(error.stderr)) {
        return { alreadyRunning: true, domainType };
      }
      if (error instanceof VirshError && /permission denied/i.test(error.stderr)) {
        const blocked = await untraversableFolders(volumePaths);
        if (blocked.length > 0) {
          throw new DriverError(
            `${error.message} (libvirt runs QEMU as libvirt-qemu, which cannot enter ${blocked.join(', ')}: ` +
              `every folder on the path to a volume must be traversable, e.g. chmod 0755)`,
          );
        }
      }
      throw error;
    }
    return { alreadyRunning: false, domainType };
  }

  /** The vCPUs and memory a defined domain has (`virsh dominfo`); undefined when it does not say. */
  async definedSize(domain: string): Promise<InstanceSize | undefined> {
    const info = await this.virsh.run(['dominfo', domain]);
    const cpus = /^CPU\(s\):\s+(\d+)\s*$/m.exec(info);
    const memoryKiB = /^Max memory:\s+(\d+) KiB\s*$/m.exec(info);
    if (!cpus || !memoryKiB) return undefined;
    return { cpuCount: Number(cpus[1]), memoryMiB: Math.round(Number(memoryKiB[1]) / 1024) };
  }

  /**
   * Asks the guest to power off (guest agent, else ACPI), polls until it is shut off, and destroys it after
   * `timeoutMs` (a guest without an OS ignores ACPI). A paused guest cannot react and is destroyed at once.
   * Stopped or undefined already is success. The definition (and its snapshot metadata) stays.
   */
  async stop(instanceId: string, options: StopOptions): Promise<StopResult> {
    const domain = domainName(instanceId);
    const state = await this.instanceState(instanceId);
    if (state === 'STOPPED' || state === 'MISSING') return { alreadyStopped: true, forced: false };
    if (state === 'RUNNING') {
      try {
        await this.virsh.run(['shutdown', domain, '--mode', 'agent,acpi']);
      } catch (error) {
        if (!(error instanceof VirshError && error.domainNotRunning)) throw error;
      }
      const deadline = performance.now() + options.timeoutMs;
      for (;;) {
        const now = await this.instanceState(instanceId);
        if (now === 'STOPPED' || now === 'MISSING') return { alreadyStopped: false, forced: false };
        if (now !== 'RUNNING' || performance.now() >= deadline) break;
        await sleep(Math.min(this.pollIntervalMs, Math.max(1, deadline - performance.now())));
      }
    }
    await this.destroy(domain);
    return { alreadyStopped: false, forced: true };
  }

  /**
   * Undefines the instance's domain with its snapshot metadata (`virsh undefine --snapshots-metadata`; the
   * internal snapshots stay in the image files). Refused while the domain runs or is paused; a missing domain is
   * success with alreadyGone.
   */
  async undefine(instanceId: string): Promise<{ alreadyGone: boolean }> {
    const domain = domainName(instanceId);
    const state = await this.instanceState(instanceId);
    if (state === 'MISSING') return { alreadyGone: true };
    if (state !== 'STOPPED') {
      throw new DriverError(`instance ${instanceId} is ${state.toLowerCase()}: stop it before it is destroyed`);
    }
    try {
      await this.virsh.run(['undefine', domain, '--snapshots-metadata']);
    } catch (error) {
      if (error instanceof VirshError && error.domainMissing) return { alreadyGone: true };
      throw error;
    }
    return { alreadyGone: false };
  }

  /** Powers the domain off at once; not running (or not defined) already is success. */
  async destroy(domain: string): Promise<void> {
    try {
      await this.virsh.run(['destroy', domain]);
    } catch (error) {
      if (error instanceof VirshError && (error.domainNotRunning || error.domainMissing)) return;
      throw error;
    }
  }

  /** The domain's name when it runs (or is paused: QEMU is there); else InstanceNotRunningError. */
  async liveDomain(instanceId: string): Promise<string> {
    const state = await this.instanceState(instanceId);
    if (state !== 'RUNNING' && state !== 'PAUSED') throw new InstanceNotRunningError(instanceId, state);
    return domainName(instanceId);
  }

  /** A QMP command on a live domain; a domain that stopped meanwhile is an InstanceNotRunningError. */
  async qmpLive(
    instanceId: string,
    domain: string,
    command: string,
    args: Record<string, unknown>,
  ): Promise<{ value: unknown; commandMs: number }> {
    try {
      return await this.virsh.qmpTimed(domain, command, args);
    } catch (error) {
      if (error instanceof VirshError && (error.domainNotRunning || error.domainMissing)) {
        throw new InstanceNotRunningError(instanceId, error.domainMissing ? 'MISSING' : 'STOPPED');
      }
      throw error;
    }
  }

  /**
   * `virsh define` of a file in a private temporary folder (`define /dev/stdin` fails when stdin is a socket, as
   * Node's pipes are). The file is read by virsh, not by libvirtd, so the folder may stay 0700.
   */
  private async define(xml: string): Promise<void> {
    const folder = await mkdtemp(join(tmpdir(), 'snapdeck-domain-'));
    try {
      const file = join(folder, 'domain.xml');
      await writeFile(file, xml, { mode: 0o600 });
      await this.virsh.run(['define', file]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }
}

/** The folders on the way to these files that others (libvirt-qemu) cannot enter. */
async function untraversableFolders(paths: readonly string[]): Promise<string[]> {
  const blocked = new Set<string>();
  for (const path of paths) {
    let dir = dirname(path);
    for (;;) {
      const info = await stat(dir).catch(() => null);
      if (info && (info.mode & 0o001) === 0) blocked.add(`${dir} (mode 0${(info.mode & 0o777).toString(8)})`);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return [...blocked];
}
