/**
 * Issue 13, the fault suite: kill -9 of the agent at a random moment of createBackup and of restoreBackup (new
 * instance, and over the backup's own instance), qemu-img driver on real qcow2 images with data in them, 20 rounds
 * each. Beyond the common promises (nothing stuck or lost, no audit finding, every image sound, rows and disks in
 * agreement — which for backups means no folder without a READY row, no leftover file, every READY backup's files
 * matching its manifest): every instance ends in the state it had (STOPPED), a restored one holds its data.
 * Then the same kill mid-createBackup of running instances on a libvirt agent, in each mode (SNAPSHOT, SUSPEND,
 * STOP): every guest ends running, none left paused or shut off (CloudStack #12821), as the database says.
 */
import { describeWith } from '@snapdeck/testing';
import { domainState, forgetDomains, forgetDomainsNow } from '../support/libvirt.js';
import { hasPattern, volumeFile, writePattern } from '../support/patterns.js';
import { Campaign } from './support/campaign.js';
import { atExit } from './support/cleanup.js';
import { DATABASE, type FaultStack } from './support/fault-stack.js';
import { CAMPAIGN_TIMEOUT_MS, useFaultStack } from './support/lifecycle.js';
import {
  completed,
  CREATE_BACKUP,
  createInstance,
  hostIds,
  memberOf,
  RESTORE_BACKUP,
  uniqueName,
  startInstance,
  stopForChecks,
  type Instance,
} from './support/operations.js';
import { waitFor } from './support/ports.js';
import { killAgentMidOperation } from './support/rounds.js';
import { judge, SETTLE_SECONDS } from './support/verdict.js';

const HOST = 'kvm-faults-backup';
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 20);
const INSTANCES = 4;
const COMPRESSIONS = ['ZSTD', 'NONE', 'GZIP'] as const;
/** Data in every volume, so a copy takes long enough for a kill to land inside it. */
const PATTERN = 0x5a;
const DATA = '48M';

type Stack = ReturnType<ReturnType<typeof useFaultStack>>;

/** A member of a fresh organization with stopped instances whose every volume holds `DATA` of `PATTERN`. */
async function setUp(stack: Stack) {
  const member = await memberOf(stack);
  const hostId = (await hostIds(stack)).get(HOST)!;
  const instances: Instance[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    const vm = await createInstance(stack, member.token, {
      environmentId: member.environmentId,
      hostId,
      dataDiskSizesGiB: [1],
    });
    for (const volume of vm.volumes)
      await writePattern(volumeFile(stack.storageDir(HOST), volume.id), PATTERN, 0, DATA);
    instances.push(vm);
  }
  return { ...member, hostId, instances };
}

/** Waits (at most the settle window) until the instance is `state` with every volume READY and no backup running. */
async function instanceIdle(stack: FaultStack, instanceId: string, state = 'STOPPED'): Promise<boolean> {
  return waitFor(
    async () => {
      const [row] = await stack.postgres.query<{ idle: boolean }>(
        DATABASE,
        `SELECT i.state = $2
            AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.instance_id = i.id AND v.state <> 'READY')
            AND NOT EXISTS (SELECT 1 FROM backups b WHERE b.instance_id = i.id AND b.state = 'CREATING') AS idle
           FROM instances i WHERE i.id = $1`,
        [instanceId, state],
      );
      return row?.idle === true;
    },
    SETTLE_SECONDS * 1000,
    `instance ${instanceId} to be idle`,
    100,
  ).catch(() => false);
}

/** The campaign's own promise: every instance STOPPED, as it was before its rounds. */
async function instancesAsTheyWere(stack: FaultStack, instanceIds: string[]): Promise<string[]> {
  const rows = await stack.postgres.query<{ id: string; state: string }>(
    DATABASE,
    'SELECT id, state FROM instances WHERE id = ANY($1::uuid[])',
    [instanceIds],
  );
  return rows.filter((r) => r.state !== 'STOPPED').map((r) => `instance ${r.id} is ${r.state}, it was STOPPED`);
}

describeWith(['qemu-img'], 'fault campaign: kill -9 of the agent mid-createBackup', () => {
  const stack = useFaultStack({ hosts: [HOST] });
  it(
    `${ROUNDS} rounds`,
    async () => {
      const { token, instances } = await setUp(stack());
      const campaign = new Campaign('agent kill -9 mid-createBackup', stack());
      await killAgentMidOperation(
        campaign,
        HOST,
        ROUNDS,
        async (round) => {
          const instanceId = instances[round % instances.length].id;
          await instanceIdle(stack(), instanceId);
          await campaign.submit(token, CREATE_BACKUP, {
            instanceId,
            compression: COMPRESSIONS[round % COMPRESSIONS.length],
          });
        },
        600,
      );
      const ids = instances.map((vm) => vm.id);
      expect(await judge(campaign, campaign.lastFault, () => instancesAsTheyWere(stack(), ids))).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});

describeWith(['qemu-img'], 'fault campaign: kill -9 of the agent mid-restoreBackup', () => {
  const stack = useFaultStack({ hosts: [HOST] });
  it(
    `${ROUNDS} rounds, into a new instance and over the backup's own`,
    async () => {
      const { token, environmentId, instances } = await setUp(stack());
      const backups: string[] = [];
      for (const vm of instances) {
        backups.push(await completed(stack(), token, CREATE_BACKUP, { instanceId: vm.id, compression: 'ZSTD' }));
      }
      const campaign = new Campaign('agent kill -9 mid-restoreBackup', stack());
      const restoredInto: string[] = [];
      await killAgentMidOperation(
        campaign,
        HOST,
        ROUNDS,
        async (round) => {
          const i = round % instances.length;
          const overItself = round % 2 === 1;
          if (overItself) await instanceIdle(stack(), instances[i].id);
          const accepted = await campaign.submit(
            token,
            RESTORE_BACKUP,
            overItself
              ? { backupId: backups[i], instanceId: instances[i].id }
              : { backupId: backups[i], environmentId, name: uniqueName('restored') },
          );
          if (accepted && !overItself) restoredInto.push(accepted.resourceId);
        },
        600,
      );
      const originals = instances.map((vm) => vm.id);
      const promises = async () => {
        const broken = await instancesAsTheyWere(stack(), originals);
        // A restore that succeeded restored the data: every volume of a STOPPED restored instance or original.
        const volumes = await stack().postgres.query<{ id: string }>(
          DATABASE,
          `SELECT v.id FROM volumes v JOIN instances i ON i.id = v.instance_id
            WHERE i.id = ANY($1::uuid[]) AND i.state = 'STOPPED' AND v.state = 'READY'`,
          [[...originals, ...restoredInto]],
        );
        for (const { id } of volumes) {
          if (!(await hasPattern(volumeFile(stack().storageDir(HOST), id), PATTERN, 0, DATA))) {
            broken.push(`volume ${id} does not hold the backed-up data`);
          }
        }
        return broken;
      };
      expect(await judge(campaign, campaign.lastFault, promises)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});

const LIVE_HOST = 'kvm-faults-backup-live';
const LIVE_INSTANCES = 3;
const MODES = ['SNAPSHOT', 'SUSPEND', 'STOP'] as const;

describeWith(['qemu-img', 'libvirt'], 'fault campaign: kill -9 of a libvirt agent mid-createBackup, each mode', () => {
  // A guest without an OS ignores ACPI: STOP mode forces it off after a second instead of a minute.
  const stack = useFaultStack({
    hosts: [LIVE_HOST],
    driver: 'libvirt',
    apiEnv: { INSTANCE_STOP_TIMEOUT_SECONDS: '1' },
  });
  const instanceIds: string[] = [];
  atExit(() => forgetDomainsNow(instanceIds));
  afterAll(() => forgetDomains(instanceIds), 120_000);

  it(
    `${ROUNDS} rounds on running instances in SNAPSHOT, SUSPEND and STOP modes`,
    async () => {
      const { token, environmentId } = await memberOf(stack());
      const hostId = (await hostIds(stack())).get(LIVE_HOST)!;
      for (let i = 0; i < LIVE_INSTANCES; i++) {
        const vm = await createInstance(stack(), token, { environmentId, hostId, dataDiskSizesGiB: [1] });
        instanceIds.push(vm.id);
        for (const volume of vm.volumes)
          await writePattern(volumeFile(stack().storageDir(LIVE_HOST), volume.id), PATTERN, 0, DATA);
        await startInstance(stack(), token, vm.id);
      }
      const campaign = new Campaign('agent kill -9 mid-createBackup (libvirt, each mode)', stack());
      await killAgentMidOperation(
        campaign,
        LIVE_HOST,
        ROUNDS,
        async (round) => {
          const instanceId = instanceIds[round % instanceIds.length];
          await instanceIdle(stack(), instanceId, 'RUNNING');
          await campaign.submit(token, CREATE_BACKUP, {
            instanceId,
            mode: MODES[round % MODES.length],
            compression: COMPRESSIONS[round % COMPRESSIONS.length],
          });
        },
        800,
      );
      // The campaign's own promise, before the instances are stopped for the image checks: every one RUNNING
      // with its backups settled, and its domain running (a resumed or restarted guest, never one left held).
      const settleFrom = Date.now();
      const held: string[] = [];
      for (const id of instanceIds) {
        const idle = await instanceIdle(stack(), id, 'RUNNING');
        const domain = (await domainState(id)) ?? 'not defined';
        if (!idle) held.push(`instance ${id} did not settle RUNNING (its domain is ${domain})`);
        else if (domain !== 'running') held.push(`instance ${id} is RUNNING but its domain is ${domain}`);
      }
      const settled = instanceIds.filter((id) => !held.some((line) => line.includes(id)));
      await stopForChecks(stack(), token, settled, (line) => campaign.note(line));
      expect(await judge(campaign, settleFrom, async () => held)).toEqual([]);
    },
    CAMPAIGN_TIMEOUT_MS,
  );
});
