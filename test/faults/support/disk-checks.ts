import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { DATABASE, type FaultStack } from './fault-stack.js';

const exec = promisify(execFile);
const IMAGE = /^([0-9a-f-]{36})\.qcow2$/;
/** The agent's own bookkeeping under its storage folder, not images: the result outbox and the image journal. */
const AGENT_BOOKKEEPING = new Set(['outbox', '.snapdeck']);

/** Every regular file under `dir` (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!AGENT_BOOKKEEPING.has(entry.name)) files.push(...(await filesUnder(path)));
    } else if (entry.isFile()) files.push(path);
  }
  return files;
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: string; stdout?: string; message?: string };
  return (e.stdout || e.stderr || e.message || String(error)).trim().split('\n').slice(0, 2).join(' / ');
}

/**
 * `qemu-img check` of every file in every storage folder (the agent's bookkeeping aside), as an operator would run it (`-U`: a running domain
 * holds its disks). A file that is not a sound qcow2 image, leaked clusters included, is listed with the reason.
 */
export async function damagedImages(stack: FaultStack): Promise<string[]> {
  const dirs = [...[...stack.agents.keys()].map((h) => stack.storageDir(h)), stack.secondaryDir];
  const damaged: string[] = [];
  for (const dir of dirs) {
    for (const file of await filesUnder(dir)) {
      // A backup's manifest is JSON, not an image (its files are checked against it by backupDrift).
      if (basename(file) === 'manifest.json') continue;
      try {
        await exec('qemu-img', ['check', '-U', file], { timeout: 60_000 });
      } catch (error) {
        damaged.push(`${file.slice(stack.root.length + 1)}: ${firstLine(error)}`);
      }
    }
  }
  return damaged;
}

/** The internal snapshot tags of an image (`qemu-img snapshot -l -U`). */
async function tagsOf(file: string): Promise<string[]> {
  const { stdout } = await exec('qemu-img', ['snapshot', '-l', '-U', file], { timeout: 30_000 });
  return stdout
    .split('\n')
    .slice(2)
    .map((line) => line.trim().split(/\s+/)[1])
    .filter((tag): tag is string => Boolean(tag));
}

/**
 * The database against the disks, read from outside (independent of the api's own audit): a volume or template
 * file no row owns (a leftover partial copy included), a READY volume or template without its file, a tag no
 * snapshot or recovery point owns, a tag of a snapshot the database marked ERROR, a COMPLETED snapshot whose
 * tag is gone.
 */
export async function driftBetweenRowsAndDisks(stack: FaultStack): Promise<string[]> {
  const db = <R extends Record<string, unknown>>(sql: string) => stack.postgres.query<R>(DATABASE, sql);
  const hosts = new Map(
    (await db<{ id: string; name: string }>('SELECT id, name FROM hosts')).map((h) => [h.name, h.id]),
  );
  const volumes = new Map(
    (await db<{ id: string; host_id: string; state: string }>('SELECT id, host_id, state FROM volumes')).map((v) => [
      v.id,
      v,
    ]),
  );
  const snapshots = await db<{ id: string; volume_id: string; state: string }>(
    'SELECT id, volume_id, state FROM snapshots',
  );
  const points = new Set((await db<{ id: string }>('SELECT id FROM instance_snapshots')).map((p) => p.id));
  const templates = new Map(
    (await db<{ id: string; state: string }>('SELECT id, state FROM templates')).map((t) => [t.id, t.state]),
  );
  const snapshotState = new Map(snapshots.map((s) => [s.id, s.state]));
  const drift: string[] = [];

  for (const [host, dir] of [...stack.agents.keys()].map((h) => [h, stack.storageDir(h)] as const)) {
    const hostId = hosts.get(host);
    const tagsByVolume = new Map<string, string[]>();
    for (const file of await filesUnder(join(dir, 'volumes'))) {
      const id = IMAGE.exec(basename(file))?.[1];
      const row = id ? volumes.get(id) : undefined;
      if (!id || !row || row.host_id !== hostId) {
        drift.push(`orphan file ${host}/volumes/${basename(file)}`);
        continue;
      }
      const tags = await tagsOf(file);
      tagsByVolume.set(id, tags);
      for (const tag of tags) {
        if (snapshotState.get(tag) === 'ERROR') drift.push(`tag ${tag} on ${id}: its snapshot is ERROR`);
        else if (!snapshotState.has(tag) && !points.has(tag)) drift.push(`orphan tag ${tag} on volume ${id}`);
      }
    }
    for (const [id, v] of volumes) {
      if (v.host_id === hostId && v.state === 'READY' && !tagsByVolume.has(id)) {
        drift.push(`missing volume file ${host}/volumes/${id}.qcow2 (row READY)`);
      }
    }
    for (const s of snapshots) {
      const tags = tagsByVolume.get(s.volume_id);
      if (s.state === 'COMPLETED' && tags && !tags.includes(s.id)) {
        drift.push(`missing tag of COMPLETED snapshot ${s.id} on volume ${s.volume_id}`);
      }
    }
  }

  const templateFiles = await filesUnder(join(stack.secondaryDir, 'templates'));
  const present = new Set<string>();
  for (const file of templateFiles) {
    const id = IMAGE.exec(basename(file))?.[1];
    if (!id || !templates.has(id)) drift.push(`orphan file templates/${basename(file)}`);
    else present.add(id);
  }
  for (const [id, state] of templates) {
    if (state === 'READY' && !present.has(id)) drift.push(`missing template file templates/${id}.qcow2 (row READY)`);
  }
  drift.push(...(await backupDrift(stack)));
  return drift;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Backups in the default storage (`secondary/backups/<organizationId>/<backupId>/`) against their rows: a folder
 * no READY backup owns (an orphan, or a half backup left behind), a name in a folder that is neither the manifest
 * nor a volume file it lists (a leftover temporary file), a READY backup without its manifest or whose files do
 * not match the manifest's sha256.
 */
async function backupDrift(stack: FaultStack): Promise<string[]> {
  const rows = await stack.postgres.query<{ id: string; organization_id: string; state: string }>(
    DATABASE,
    `SELECT b.id, b.organization_id, b.state FROM backups b JOIN backup_storages s ON s.id = b.storage_id
      WHERE s.name = 'default'`,
  );
  const state = new Map(rows.map((r) => [r.id, r.state]));
  const root = join(stack.secondaryDir, 'backups');
  const drift: string[] = [];
  const seen = new Set<string>();
  for (const organization of await readdir(root).catch(() => [] as string[])) {
    for (const backupId of await readdir(join(root, organization)).catch(() => [] as string[])) {
      const folder = join(root, organization, backupId);
      const where = `backups/${organization}/${backupId}`;
      seen.add(backupId);
      if (state.get(backupId) !== 'READY') {
        drift.push(`backup folder ${where} without a READY row (${state.get(backupId) ?? 'no row'})`);
        continue;
      }
      let manifest: { volumes: Array<{ file: string; sha256: string }> };
      try {
        manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
      } catch {
        drift.push(`READY backup ${where} has no readable manifest.json`);
        continue;
      }
      const listed = new Set(['manifest.json', ...manifest.volumes.map((v) => v.file)]);
      for (const name of await readdir(folder)) {
        if (!listed.has(name)) drift.push(`leftover ${where}/${name}`);
      }
      for (const volume of manifest.volumes) {
        const sha = await sha256Of(join(folder, volume.file)).catch(() => 'missing');
        if (sha !== volume.sha256)
          drift.push(`${where}/${volume.file}: ${sha === 'missing' ? 'missing' : 'sha256 differs from its manifest'}`);
      }
    }
  }
  for (const row of rows) {
    if (row.state === 'READY' && !seen.has(row.id)) drift.push(`READY backup ${row.id} has no folder`);
  }
  return drift;
}
