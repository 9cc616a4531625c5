import { DriverError } from '../volume-driver.js';

export interface QcowSnapshot {
  /** qemu's own numeric id, not ours. */
  id: string;
  tag: string;
  createdAt: Date;
}

export interface QcowImageInfo {
  format: string;
  virtualSizeBytes: number;
  snapshots: QcowSnapshot[];
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
  };
}

function parseSnapshot(entry: unknown): QcowSnapshot {
  if (!isRecord(entry) || typeof entry['name'] !== 'string' || typeof entry['id'] !== 'string') {
    throw new DriverError('qemu-img info reported a snapshot without an id and a name');
  }
  const seconds = typeof entry['date-sec'] === 'number' ? entry['date-sec'] : 0;
  const nanos = typeof entry['date-nsec'] === 'number' ? entry['date-nsec'] : 0;
  return { id: entry['id'], tag: entry['name'], createdAt: new Date(seconds * 1000 + Math.floor(nanos / 1e6)) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
