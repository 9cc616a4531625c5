import { DriverError } from '../volume-driver.js';

export interface QcowSnapshot {
  /** qemu's own numeric id, not ours. */
  id: string;
  tag: string;
  createdAt: Date;
  /** Saved guest memory (`vm-state-size`): above 0 for a snapshot taken with memory. */
  vmStateBytes: number;
}

export interface QcowImageInfo {
  format: string;
  virtualSizeBytes: number;
  snapshots: QcowSnapshot[];
  /**
   * The backing file named in the image's header (`backing-filename`, or `full-backing-filename`), null when it
   * has none. Reading an image with a backing file reads that file too: an image from outside must have none.
   */
  backingFile: string | null;
  /** The external data file named in a qcow2 header (`format-specific.data.data-file`), null when it has none. */
  dataFile: string | null;
}

/** Parses `qemu-img info --output=json`. The `snapshots` key is absent when the image has none. */
export function parseQemuImgInfo(json: string): QcowImageInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new DriverError('qemu-img info printed something that is not JSON');
  }
  if (!isRecord(raw) || typeof raw['format'] !== 'string' || typeof raw['virtual-size'] !== 'number') {
    throw new DriverError('qemu-img info did not report a format and a virtual size');
  }
  const list = raw['snapshots'] ?? [];
  if (!Array.isArray(list)) throw new DriverError('qemu-img info reported snapshots that are not a list');
  return {
    format: raw['format'],
    virtualSizeBytes: raw['virtual-size'],
    snapshots: list.map(parseSnapshot),
    backingFile: stringOrNull(raw['backing-filename']) ?? stringOrNull(raw['full-backing-filename']),
    dataFile: dataFileOf(raw['format-specific']),
  };
}

function parseSnapshot(entry: unknown): QcowSnapshot {
  if (!isRecord(entry) || typeof entry['name'] !== 'string' || typeof entry['id'] !== 'string') {
    throw new DriverError('qemu-img info reported a snapshot without an id and a name');
  }
  const seconds = typeof entry['date-sec'] === 'number' ? entry['date-sec'] : 0;
  const nanos = typeof entry['date-nsec'] === 'number' ? entry['date-nsec'] : 0;
  const vmStateBytes = typeof entry['vm-state-size'] === 'number' ? entry['vm-state-size'] : 0;
  const createdAt = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
  return { id: entry['id'], tag: entry['name'], createdAt, vmStateBytes };
}

function dataFileOf(formatSpecific: unknown): string | null {
  if (!isRecord(formatSpecific) || !isRecord(formatSpecific['data'])) return null;
  return stringOrNull(formatSpecific['data']['data-file']);
}

/** A present key with a non-string value still counts as "has one": an odd header must not pass as plain. */
function stringOrNull(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
