import { badInput } from './errors.js';

export const RESOURCE_NAME = /^[A-Za-z0-9._-]{1,63}$/;
/** RFC 1123 host label: letters, digits and inner hyphens, 1–63 characters. */
export const HOSTNAME_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
export const MAX_DESCRIPTION_LENGTH = 1024;
/** Stands for the instance of a volume that has none (CloudStack's word). */
export const DETACHED = 'detached';

export function assertResourceName(name: string, field = 'name'): string {
  if (!RESOURCE_NAME.test(name)) {
    throw badInput(`${field} must be 1-63 characters of letters, digits, '-', '_' and '.'`, field);
  }
  return name;
}

export function assertInstanceName(name: string, field = 'name'): string {
  if (!HOSTNAME_LABEL.test(name)) {
    throw badInput(
      `${field} must be a hostname label: 1-63 letters, digits and '-', not starting or ending with '-'`,
      field,
    );
  }
  return name;
}

export function assertDescription(description: string | null | undefined, field = 'description'): string | null {
  if (description == null) return null;
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw badInput(`${field} must be at most ${MAX_DESCRIPTION_LENGTH} characters`, field);
  }
  return description;
}

/** True when a caller gave no name: absent, null or only white space. */
export function isBlankName(name: string | null | undefined): boolean {
  return name == null || name.trim() === '';
}

/** yyyyMMddHHmmss in UTC, as CloudStack stamps its automatic snapshot names. */
export function utcStamp(at: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    String(at.getUTCFullYear()) +
    pad(at.getUTCMonth() + 1) +
    pad(at.getUTCDate()) +
    pad(at.getUTCHours()) +
    pad(at.getUTCMinutes()) +
    pad(at.getUTCSeconds())
  );
}

/** `<instanceName>_<volumeName>_<yyyyMMddHHmmss>`; `detached` stands in for a volume without an instance. */
export function autoSnapshotName(instanceName: string | null, volumeName: string, at: Date): string {
  return `${instanceName ?? DETACHED}_${volumeName}_${utcStamp(at)}`;
}

/** `<instanceName>_VS_<yyyyMMddHHmmss>` for instance snapshots. */
export function autoInstanceSnapshotName(instanceName: string, at: Date): string {
  return `${instanceName}_VS_${utcStamp(at)}`;
}

/** `<instanceName>_BK_<yyyyMMddHHmmss>` for backups (createBackup takes no name, as Proxmox's "Backup now"). */
export function autoBackupName(instanceName: string, at: Date): string {
  return `${instanceName}_BK_${utcStamp(at)}`;
}

/**
 * Makes an automatic name unique among `taken` by adding `-2`, `-3`, … : two snapshots of one volume can
 * complete within the same second, and the portal must tell them apart.
 */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * A path an operator gives relative to secondary storage: plain segments only, so it cannot name a file
 * outside that storage (the agent also resolves symlinks before it opens anything).
 */
export function assertRelativeStoragePath(path: string, field = 'path'): string {
  const segments = path.split('/');
  const sane =
    path.length > 0 &&
    path.length <= 1024 &&
    !path.startsWith('/') &&
    segments.every((s) => s !== '' && s !== '.' && s !== '..' && /^[A-Za-z0-9._-]+$/.test(s));
  if (!sane) {
    throw badInput(
      `${field} must be a relative path inside secondary storage: segments of letters, digits, '.', '_' and '-', no '..'`,
      field,
    );
  }
  return path;
}

/**
 * A backup storage's path as an operator registers it: absolute, normalized (no `.`, `..`, empty segments or a
 * trailing slash), plain segments, and not the file system's root. Every node must mount it at that path.
 */
export function assertAbsoluteStoragePath(path: string, field = 'path'): string {
  const segments = path.split('/').slice(1);
  const sane =
    path.startsWith('/') &&
    path.length > 1 &&
    path.length <= 1024 &&
    segments.every((s) => s !== '' && s !== '.' && s !== '..' && /^[A-Za-z0-9._-]+$/.test(s));
  if (!sane) {
    throw badInput(
      `${field} must be a normalized absolute path (no '.', '..', '//' or trailing '/'): segments of letters, digits, '.', '_' and '-'`,
      field,
    );
  }
  return path;
}
