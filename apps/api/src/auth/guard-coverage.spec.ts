/**
 * Every @Query and @Mutation of the api declares the permission it needs. The global AuthGuard refuses an
 * operation without one at run time; this test finds the omission before anyone calls it. No I/O beyond
 * listing and importing the resolver sources.
 */
import 'reflect-metadata';
import { Query, Resolver, RESOLVER_NAME_METADATA, RESOLVER_TYPE_METADATA } from '@nestjs/graphql';
import { Permission } from '@snapdeck/domain';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REQUIRED_PERMISSION, RequirePermission } from './require-permission.decorator.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The root operations of the public contract (API-CONTRACT.md) that exist today. */
const CONTRACT_OPERATIONS = [
  'viewer',
  'organizations',
  'hosts',
  'environments',
  'instances',
  'volumes',
  'snapshots',
  'snapshot',
  'volume',
  'instance',
  'job',
  'node',
  'createOrganization',
  'setOrganizationLimits',
  'createUser',
  'createApiToken',
  'createEnvironment',
  'createInstance',
  'createSnapshot',
  'deleteSnapshot',
  'instanceSnapshots',
  'startInstance',
  'stopInstance',
  'createInstanceSnapshot',
  'revertToInstanceSnapshot',
  'deleteInstanceSnapshot',
  'apiTokens',
  'revokeApiToken',
  'backupStorages',
  'createBackupStorage',
  'backups',
  'backup',
  'createBackup',
  'restoreBackup',
  'deleteBackup',
  'createBackupSchedule',
  'backupSchedules',
  'deleteBackupSchedule',
];

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

interface RootOperation {
  file: string;
  className: string;
  method: string;
  /** Query, Mutation or Subscription. */
  type: string;
  /** The name in the schema: the decorator's name option, or the method name. */
  name: string;
  permission: unknown;
}

function resolverFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return resolverFiles(path);
    return entry.name.endsWith('.resolver.ts') ? [path] : [];
  });
}

/** A class as this test sees it: a name and a prototype whose methods carry Nest's metadata. */
type Class = { readonly name: string; readonly prototype: unknown };
type Handler = (...args: never[]) => unknown;

/** Methods along the prototype chain, so an operation inherited from a base class is found too. */
function methodsOf(target: Class): Array<[string, Handler]> {
  const seen = new Map<string, Handler>();
  for (
    let proto: unknown = target.prototype;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || seen.has(key)) continue;
      const value: unknown = Object.getOwnPropertyDescriptor(proto, key)?.value;
      if (typeof value === 'function') seen.set(key, value as Handler);
    }
  }
  return [...seen];
}

/** The root operations a class declares, read from @nestjs/graphql's metadata, with their permission. */
function rootOperationsOf(target: Class, file: string): RootOperation[] {
  return methodsOf(target).flatMap(([method, handler]) => {
    const type: unknown = Reflect.getMetadata(RESOLVER_TYPE_METADATA, handler);
    if (typeof type !== 'string' || !ROOT_TYPES.has(type)) return [];
    const name: unknown = Reflect.getMetadata(RESOLVER_NAME_METADATA, handler);
    return [
      {
        file,
        className: target.name,
        method,
        type,
        name: typeof name === 'string' ? name : method,
        permission: Reflect.getMetadata(REQUIRED_PERMISSION, handler) as unknown,
      },
    ];
  });
}

describe('every root operation is guarded by a declared permission', () => {
  const files = resolverFiles(SRC).sort();
  let operations: RootOperation[] = [];
  /** The @Resolver classes each file exports. */
  const resolversByFile = new Map<string, string[]>();

  beforeAll(async () => {
    for (const file of files) {
      const exports = (await import(file)) as Record<string, unknown>;
      const classes = Object.values(exports).filter((value): value is Class => typeof value === 'function');
      // @Resolver() marks the class itself with the resolver metadata, @Query and @Mutation its methods.
      resolversByFile.set(
        relative(SRC, file),
        classes.filter((target) => Reflect.hasOwnMetadata(RESOLVER_TYPE_METADATA, target)).map((target) => target.name),
      );
      operations = operations.concat(classes.flatMap((target) => rootOperationsOf(target, relative(SRC, file))));
    }
  });

  it('finds the resolver sources', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) expect(file.startsWith(SRC)).toBe(true);
  });

  it('imports a @Resolver class from every resolver file', () => {
    // A file whose classes were not reached would let an unguarded operation through unnoticed.
    const empty = [...resolversByFile].filter(([, classes]) => classes.length === 0).map(([file]) => file);
    expect(empty).toEqual([]);
    expect(resolversByFile.size).toBe(files.length);
  });

  it('finds root operations only on @Resolver classes', () => {
    const resolverClasses = new Set([...resolversByFile.values()].flat());
    expect(operations.filter((op) => !resolverClasses.has(op.className))).toEqual([]);
  });

  it('finds every operation of the contract', () => {
    const names = operations.map((op) => op.name);
    expect(names).toEqual(expect.arrayContaining(CONTRACT_OPERATIONS));
  });

  it('finds each operation name once per root type', () => {
    const keys = operations.map((op) => `${op.type}.${op.name}`);
    expect(keys.filter((key, index) => keys.indexOf(key) !== index)).toEqual([]);
  });

  it('every Query, Mutation and Subscription handler declares a known permission', () => {
    const known = new Set<unknown>(Object.values(Permission));
    const unguarded = operations
      .filter((op) => !known.has(op.permission))
      .map((op) => `${op.type}.${op.name} (${op.className}.${op.method} in ${op.file}): ${String(op.permission)}`);
    expect(unguarded).toEqual([]);
    expect(operations.length).toBeGreaterThanOrEqual(CONTRACT_OPERATIONS.length);
  });

  it('the contract operations that the contract restricts carry the expected permission', () => {
    const permissionOf = (name: string) => operations.find((op) => op.name === name)?.permission;
    expect(permissionOf('hosts')).toBe(Permission.PLATFORM);
    expect(permissionOf('createOrganization')).toBe(Permission.PLATFORM);
    expect(permissionOf('setOrganizationLimits')).toBe(Permission.PLATFORM);
    expect(permissionOf('organizations')).toBe(Permission.READ_ALL_ORGANIZATIONS);
    for (const name of [
      'createSnapshot',
      'deleteSnapshot',
      'createInstance',
      'startInstance',
      'stopInstance',
      'createInstanceSnapshot',
      'revertToInstanceSnapshot',
      'deleteInstanceSnapshot',
    ])
      expect(permissionOf(name)).toBe(Permission.WRITE);
    for (const name of ['createUser', 'createApiToken', 'createEnvironment', 'updateUser', 'deleteUser'])
      expect(permissionOf(name)).toBe(Permission.MANAGE_ORGANIZATION);
    // Everyone lists and revokes their own tokens; the service decides whose else.
    for (const name of ['apiTokens', 'revokeApiToken']) expect(permissionOf(name)).toBe(Permission.READ);
    for (const name of [
      'viewer',
      'environments',
      'instances',
      'volumes',
      'snapshots',
      'instanceSnapshots',
      'snapshot',
      'volume',
      'instance',
      'job',
      'node',
    ]) {
      expect(permissionOf(name)).toBe(Permission.READ);
    }
  });

  it('the discovery itself tells a guarded handler from an unguarded one', () => {
    @Resolver()
    class Probe {
      @Query(() => String)
      @RequirePermission(Permission.READ)
      guarded(): string {
        return '';
      }

      @Query(() => String, { name: 'renamed' })
      unguarded(): string {
        return '';
      }

      helper(): string {
        return '';
      }
    }
    const found = rootOperationsOf(Probe, 'probe');
    expect(found.map(({ name, method, type, permission }) => ({ name, method, type, permission }))).toEqual(
      expect.arrayContaining([
        { name: 'guarded', method: 'guarded', type: 'Query', permission: Permission.READ },
        { name: 'renamed', method: 'unguarded', type: 'Query', permission: undefined },
      ]),
    );
    expect(found).toHaveLength(2);
  });
});
