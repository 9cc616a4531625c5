/**
 * Real data checks on real qcow2 files, with the tools an operator would use: `qemu-io` writes a byte pattern
 * into an image and reads it back (`read -P` fails when a single byte differs), `qemu-img check` and
 * `qemu-img info` judge the file itself. Only write to a volume file while no job touches it (its instance
 * STOPPED, the volume READY): the agents take no lock across jobs that the tests could honour.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

interface ExecFailure {
  code?: number | string;
  stdout?: string;
  stderr?: string;
}

/** `<agent storageDir>/volumes/<volumeId>.qcow2`: where a host keeps a volume (the contract's layout). */
export function volumeFile(storageDir: string, volumeId: string): string {
  return join(storageDir, 'volumes', `${volumeId}.qcow2`);
}

/** `<secondary storage>/templates/<templateId>.qcow2`: where a template's image lives (the contract's layout). */
export function templateFile(secondaryDir: string, templateId: string): string {
  return join(secondaryDir, 'templates', `${templateId}.qcow2`);
}

function hex(byte: number): string {
  if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) throw new Error(`not a byte: ${byte}`);
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/** Writes `length` bytes of `byte` at `offset` (qemu-io sizes: 4096, '1M', …) into a qcow2 image. */
export async function writePattern(
  file: string,
  byte: number,
  offset: number | string,
  length: number | string,
): Promise<void> {
  await exec('qemu-io', ['-f', 'qcow2', '-c', `write -P ${hex(byte)} ${offset} ${length}`, file]);
}

/**
 * Whether `length` bytes at `offset` all read as `byte`. qemu-io exits 1 both when the data differ and when it
 * cannot open the image; only the first is `false`, anything else fails the test with qemu-io's words.
 */
export async function hasPattern(
  file: string,
  byte: number,
  offset: number | string,
  length: number | string,
): Promise<boolean> {
  try {
    await exec('qemu-io', ['-r', '-U', '-f', 'qcow2', '-c', `read -P ${hex(byte)} ${offset} ${length}`, file]);
    return true;
  } catch (error) {
    const { code, stdout = '', stderr = '' } = error as ExecFailure;
    if (code === 1 && /Pattern verification failed/.test(stdout + stderr)) return false;
    throw new Error(`qemu-io could not read ${file}: ${stderr || stdout || String(error)}`);
  }
}

export interface CheckResult {
  clean: boolean;
  /** What `qemu-img check` printed, to show in a failed expectation. */
  output: string;
}

/** `qemu-img check -f qcow2`: clean means exit 0 (no corruption, no leaked clusters). */
export async function check(file: string): Promise<CheckResult> {
  try {
    const { stdout } = await exec('qemu-img', ['check', '-U', '-f', 'qcow2', file]);
    return { clean: true, output: stdout };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as ExecFailure;
    return { clean: false, output: `${stdout}${stderr}` || String(error) };
  }
}

export interface ImageInfo {
  format: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'format-specific'?: { type: string; data: { 'data-file'?: string; [key: string]: unknown } };
  snapshots?: Array<{ name: string; id: string }>;
}

/** `qemu-img info --output=json` of a file, whatever its format (so a raw file reads as raw). */
export async function imageInfo(file: string): Promise<ImageInfo> {
  const { stdout } = await exec('qemu-img', ['info', '-U', '--output=json', file]);
  return JSON.parse(stdout) as ImageInfo;
}

/** A standalone qcow2: no backing file and no external data file. */
export async function isStandaloneQcow2(file: string): Promise<boolean> {
  const info = await imageInfo(file);
  return (
    info.format === 'qcow2' &&
    info['backing-filename'] === undefined &&
    info['full-backing-filename'] === undefined &&
    info['format-specific']?.data['data-file'] === undefined
  );
}

/** `qemu-img create`: a blank image of `size` ('1G', …) in `format`, with extra `-o` options if any. */
export async function createImage(file: string, size: string, format = 'qcow2', options?: string): Promise<void> {
  await exec('qemu-img', ['create', '-q', '-f', format, ...(options ? ['-o', options] : []), file, size]);
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
