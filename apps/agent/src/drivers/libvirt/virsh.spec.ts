import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HmpError, QmpError, Virsh, VirshError, virshErrorMessage } from './virsh.js';

describe('virshErrorMessage', () => {
  it("strips libvirt's error: prefixes and keeps its reason", () => {
    const stderr =
      "error: Failed to start domain 'i-1'\nerror: Cannot access storage file '/x/a.qcow2': Permission denied\n\n";
    expect(virshErrorMessage(stderr, 'fallback')).toBe(
      "Failed to start domain 'i-1': Cannot access storage file '/x/a.qcow2': Permission denied",
    );
  });

  it('drops repeated lines and falls back when stderr is empty', () => {
    expect(virshErrorMessage("error: failed to get domain 'i-x'\nerror: failed to get domain 'i-x'\n", 'f')).toBe(
      "failed to get domain 'i-x'",
    );
    expect(virshErrorMessage('  \n', 'virsh start failed')).toBe('virsh start failed');
  });
});

/** A stand-in virsh: prints what the test put in $FAKE_OUT / $FAKE_ERR and exits with $FAKE_RC; logs its args. */
describe('Virsh against a fake binary', () => {
  let dir: string;
  let virsh: Virsh;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snapdeck-fake-virsh-'));
    const script = join(dir, 'virsh');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        `printf '%s\\n' "$@" > "${dir}/args"`,
        `cat > "${dir}/stdin"`,
        `cat "${dir}/out"`,
        `cat "${dir}/err" >&2`,
        `exit $(cat "${dir}/rc")`,
        '',
      ].join('\n'),
    );
    await chmod(script, 0o755);
    virsh = new Virsh({ uri: 'qemu:///system', binary: script });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function answer(out: string, err = '', rc = 0): Promise<void> {
    await writeFile(join(dir, 'out'), out);
    await writeFile(join(dir, 'err'), err);
    await writeFile(join(dir, 'rc'), String(rc));
  }
  const args = async () => {
    const { readFile } = await import('node:fs/promises');
    return (await readFile(join(dir, 'args'), 'utf8')).trim().split('\n');
  };

  it('passes -c <uri> and the arguments as an array, with stdin closed', async () => {
    await answer('ok\n');
    await expect(virsh.run(['define', '/tmp/x y.xml'])).resolves.toBe('ok\n');
    expect(await args()).toEqual(['-c', 'qemu:///system', 'define', '/tmp/x y.xml']);
  });

  it("rejects with libvirt's reason and says whether the domain is missing or not running", async () => {
    await answer('', "error: failed to get domain 'i-x'\n", 1);
    const missing = await virsh.run(['domstate', 'i-x']).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(VirshError);
    expect((missing as VirshError).message).toBe("failed to get domain 'i-x'");
    expect((missing as VirshError).domainMissing).toBe(true);

    await answer(
      '',
      "error: Failed to destroy domain 'i-x'\nerror: Requested operation is not valid: domain is not running\n",
      1,
    );
    const stopped = (await virsh.run(['destroy', 'i-x']).catch((e: unknown) => e)) as VirshError;
    expect(stopped.domainNotRunning).toBe(true);
    expect(stopped.domainMissing).toBe(false);
  });

  it('qmp sends one JSON command and returns its return value', async () => {
    await answer('{"return":[{"device":""}],"id":"libvirt-1"}\n');
    await expect(virsh.qmp('i-x', 'query-block')).resolves.toEqual([{ device: '' }]);
    await virsh.qmp('i-x', 'blockdev-snapshot-internal-sync', { device: 'libvirt-2-format', name: 's1' });
    expect(await args()).toEqual([
      '-c',
      'qemu:///system',
      '-t',
      'qemu-monitor-command',
      'i-x',
      '{"execute":"blockdev-snapshot-internal-sync","arguments":{"device":"libvirt-2-format","name":"s1"}}',
    ]);
  });

  it("reads the command's duration from virsh -t and keeps it out of the reply", async () => {
    await answer('{"return":{},"id":"libvirt-9"}\n\n(Time: 4.217 ms)\n');
    await expect(virsh.qmpTimed('i-x', 'blockdev-snapshot-internal-sync', {})).resolves.toEqual({
      value: {},
      commandMs: 4.217,
    });
    await answer('plain\n');
    await expect(virsh.runTimed(['uri'])).resolves.toEqual({ stdout: 'plain\n', commandMs: NaN });
  });

  it('qmp throws QEMU’s desc when the reply is an error, though virsh exits 0', async () => {
    await answer(
      '{"id":"libvirt-416","error":{"class":"GenericError","desc":"Snapshot with name \'s1\' already exists on device \'libvirt-2-format\'"}}\n',
    );
    const error = (await virsh.qmp('i-x', 'blockdev-snapshot-internal-sync', {}).catch((e: unknown) => e)) as QmpError;
    expect(error).toBeInstanceOf(QmpError);
    expect(error.desc).toContain('already exists');
    expect(error.message).toBe(
      "QEMU refused blockdev-snapshot-internal-sync: Snapshot with name 's1' already exists on device 'libvirt-2-format'",
    );
    await answer('not json');
    await expect(virsh.qmp('i-x', 'query-block')).rejects.toThrow('unreadable answer');
  });

  it('hmp treats any output as failure and silence as success', async () => {
    await answer('\n\n');
    await expect(virsh.hmp('i-x', 'qemu-io -d d "write 0 1M"')).resolves.toBeUndefined();
    expect((await args()).slice(2)).toEqual(['qemu-monitor-command', 'i-x', '--hmp', 'qemu-io -d d "write 0 1M"']);
    await answer("Error: Device 'd' not found\n\n");
    const error = await virsh.hmp('i-x', 'qemu-io -d d "write 0 1M"').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HmpError);
    expect((error as HmpError).message).toContain("Device 'd' not found");
  });

  it('says so when virsh is not installed', async () => {
    const absent = new Virsh({ uri: 'qemu:///system', binary: join(dir, 'no-such-virsh') });
    const error = (await absent.run(['version']).catch((e: unknown) => e)) as VirshError;
    expect(error.notInstalled).toBe(true);
    expect(error.message).toContain('libvirt-clients');
  });
});
