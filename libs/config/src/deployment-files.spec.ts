import { getMetadataStorage } from 'class-validator';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { AgentConfig, loadAgentConfig } from './agent-config.js';
import { ApiConfig, loadApiConfig } from './api-config.js';

/**
 * docker-compose.yml, Dockerfile and .dockerignore, read as files: there is no Docker engine on the machines that
 * build Snapdeck, so what can be checked without one is checked here, against the config schema and the build.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// --- docker-compose.yml ----------------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  init?: boolean;
  stop_grace_period?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

// `merge`: the agents share their settings through a YAML anchor and `<<:`, as Compose reads it.
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;

/** A service's environment as compose passes it, `${VAR:-default}` taken at its default. */
function environmentOf(service: ComposeService): Record<string, string> {
  const raw = service.environment ?? {};
  const pairs: Array<[string, string]> = Array.isArray(raw)
    ? raw.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(raw).map(([key, value]) => [key, value === null ? '' : String(value)]);
  return Object.fromEntries(pairs);
}

/** Compose interpolation with nothing set in the shell: defaults apply, a required variable gets `whenRequired`. */
function interpolate(value: string, whenRequired: string): string {
  return value
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}/g, (_m, _name, dash, fallback, question) =>
      dash ? fallback : question ? whenRequired : '',
    )
    .replace(/\$\$/g, '$');
}

/** The variables a config class declares, read from its class-validator metadata (every one is validated). */
function schemaKeys(schema: new () => object): Set<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(schema, '', true, false);
  return new Set(metadata.map((m) => m.propertyName));
}

/** The named volume mounted at `target` in a service, or undefined. */
function volumeAt(service: ComposeService, target: string): string | undefined {
  for (const mount of service.volumes ?? []) {
    if (typeof mount === 'string') {
      const [source, mountTarget] = mount.split(':');
      if (mountTarget === target) return source;
    } else if (mount.target === target) {
      return mount.source;
    }
  }
  return undefined;
}

function dependencies(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  return Array.isArray(deps)
    ? Object.fromEntries(deps.map((name) => [name, undefined]))
    : Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d?.condition]));
}

// --- Dockerfile --------------------------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** The Dockerfile's instructions (continuations joined, comments dropped), each with the index of its stage. */
function dockerfile(): Instruction[] {
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  let stage = -1;
  return lines.map((line) => {
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (op.toUpperCase() === 'FROM') stage += 1;
    return { op: op.toUpperCase(), args, stage };
  });
}

/** The argv of an exec-form CMD/ENTRYPOINT, or a shell-form one split on blanks (marked by `/bin/sh -c`). */
function argv(args: string | string[]): string[] {
  if (Array.isArray(args)) return args;
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return ['/bin/sh', '-c', trimmed];
}

const instructions = dockerfile();
const finalStage = Math.max(...instructions.map((i) => i.stage));
const defaultCommand = argv(instructions.filter((i) => i.op === 'CMD' && i.stage === finalStage).at(-1)?.args ?? '[]');
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string>; workspaces: string[] };

/** The script a process starts: `node <file>` directly, or through `npm run <script>` that runs `node <file>`. */
function entryFile(command: string[]): string | undefined {
  if (command[0] === 'node') return command[1];
  if (command[0] === 'npm' && command[1] === 'run') {
    return /^node (\S+)$/.exec(packageJson.scripts[command[2]] ?? '')?.[1];
  }
  return undefined;
}

function commandOf(service: ComposeService): string[] {
  return service.command === undefined ? defaultCommand : argv(service.command);
}

const roleOf = (service: ComposeService) => {
  const file = entryFile(commandOf(service));
  return file === 'apps/api/dist/main.js' ? 'api' : file === 'apps/agent/dist/main.js' ? 'agent' : 'other';
};
const apiServices = Object.entries(services).filter(([, s]) => s.build && roleOf(s) === 'api');
const agentServices = Object.entries(services).filter(([, s]) => s.build && roleOf(s) === 'agent');

// --- .dockerignore -----------------------------------------------------------------------------------------------

const ignorePatterns = read('.dockerignore')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** Whether .dockerignore keeps `path` out of the build context (Docker's rules: `**`, `*`, `!` exceptions). */
function ignored(path: string): boolean {
  let result = false;
  for (const pattern of ignorePatterns) {
    const negated = pattern.startsWith('!');
    const glob = posix.normalize(negated ? pattern.slice(1) : pattern).replace(/^\/+/, '');
    const source = glob
      .split('/')
      .map((part) =>
        part === '**'
          ? '(?:.*)'
          : part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/')
      .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
    // A pattern that names a folder leaves out everything inside it.
    if (new RegExp(`^${source}(?:/.*)?$`).test(path)) result = !negated;
  }
  return result;
}

function workspaceFolders(): string[] {
  return packageJson.workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(ROOT, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, parent, entry.name, 'package.json')))
      .map((entry) => `${parent}/${entry.name}`);
  });
}

interface TsProject {
  compilerOptions?: { rootDir?: string; outDir?: string; tsBuildInfoFile?: string };
  references?: Array<{ path: string }>;
}
const tsProject = (folder: string) => JSON.parse(read(join(folder, 'tsconfig.json'))) as TsProject;

// ------------------------------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('runs postgres, redis, the api and at least two agents', () => {
    expect(services.postgres?.image).toMatch(/^postgres:/);
    expect(services.redis?.image).toMatch(/^redis:/);
    expect(apiServices.map(([name]) => name)).toEqual(['api']);
    expect(agentServices.length).toBeGreaterThanOrEqual(2);
  });

  it("runs Redis with append-only persistence and noeviction, as BullMQ's production guide requires", () => {
    const command = argv(services.redis.command ?? []);
    expect(command[0]).toBe('redis-server');
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(command).toContain('--appendonly');
    expect(flag('--appendonly')).toBe('yes');
    expect(command).toContain('--maxmemory-policy');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
  });

  it.each([
    ['api', ApiConfig],
    ['agent', AgentConfig],
  ] as const)('passes the %s only variables its config schema declares', (role, schema) => {
    const known = schemaKeys(schema);
    expect(known.size).toBeGreaterThan(5);
    const targets = role === 'api' ? apiServices : agentServices;
    for (const [name, service] of targets) {
      const unknown = Object.keys(environmentOf(service)).filter((key) => !known.has(key));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it('passes values the config schemas accept', () => {
    for (const [, service] of apiServices) {
      expect(() => loadApiConfig(interpolateAll(environmentOf(service)))).not.toThrow();
    }
    for (const [, service] of agentServices) {
      expect(() => loadAgentConfig(interpolateAll(environmentOf(service)))).not.toThrow();
    }
  });

  it('gives each agent its own host name and primary storage, and all of them one secondary storage', () => {
    const agents = agentServices.map(([name, service]) => {
      const config = loadAgentConfig(interpolateAll(environmentOf(service)));
      return {
        name,
        host: config.AGENT_HOST_NAME,
        primary: volumeAt(service, config.AGENT_STORAGE_DIR),
        secondary: volumeAt(service, config.SECONDARY_STORAGE_DIR),
      };
    });
    expect(new Set(agents.map((a) => a.host)).size).toBe(agents.length);
    for (const agent of agents) {
      expect(agent.primary).toBeDefined();
      expect(agent.secondary).toBeDefined();
    }
    expect(new Set(agents.map((a) => a.primary)).size).toBe(agents.length);
    expect(new Set(agents.map((a) => a.secondary)).size).toBe(1);
    for (const volume of [...agents.map((a) => a.primary), agents[0].secondary]) {
      expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    }
  });

  it("mounts the agents' secondary storage in the api exactly when the api's config reads it", () => {
    const [, agent] = agentServices[0];
    const shared = volumeAt(agent, loadAgentConfig(interpolateAll(environmentOf(agent))).SECONDARY_STORAGE_DIR);
    const apiReadsIt = schemaKeys(ApiConfig).has('SECONDARY_STORAGE_DIR');
    for (const [, service] of apiServices) {
      const dir = loadApiConfig(interpolateAll(environmentOf(service))) as ApiConfig & {
        SECONDARY_STORAGE_DIR?: string;
      };
      const mounted = (service.volumes ?? []).some(
        (m) => (typeof m === 'string' ? m.split(':')[0] : m.source) === shared,
      );
      if (apiReadsIt) expect(dir.SECONDARY_STORAGE_DIR && volumeAt(service, dir.SECONDARY_STORAGE_DIR)).toBe(shared);
      else expect(mounted).toBe(false);
    }
  });

  it('points the api and the agents at the same Redis and key prefix, and the api at the postgres service', () => {
    const apis = apiServices.map(([, s]) => loadApiConfig(interpolateAll(environmentOf(s))));
    const agents = agentServices.map(([, s]) => loadAgentConfig(interpolateAll(environmentOf(s))));
    for (const config of [...apis, ...agents]) {
      expect(new URL(config.REDIS_URL).hostname).toBe('redis');
      expect(config.QUEUE_PREFIX).toBe(apis[0].QUEUE_PREFIX);
    }
    const postgres = environmentOf(services.postgres);
    for (const config of apis) {
      const url = new URL(config.DATABASE_URL);
      expect(url.hostname).toBe('postgres');
      expect(decodeURIComponent(url.username)).toBe(postgres.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(postgres.POSTGRES_PASSWORD);
      expect(url.pathname).toBe(`/${postgres.POSTGRES_DB}`);
    }
  });

  it('has no well-known administrator token: SNAPDECK_ADMIN_TOKEN comes from the shell, with no default', () => {
    for (const [, service] of apiServices) {
      const token = environmentOf(service).SNAPDECK_ADMIN_TOKEN;
      if (token === undefined) continue;
      expect(token).toMatch(/^\$\{SNAPDECK_ADMIN_TOKEN(?::?\?[^}]*)?\}$/);
    }
  });

  it('starts the api once postgres and redis are healthy, and every awaited health has a check', () => {
    for (const [, service] of apiServices) {
      expect(dependencies(service)).toMatchObject({ postgres: 'service_healthy', redis: 'service_healthy' });
    }
    for (const [, service] of agentServices) {
      expect(dependencies(service)).toMatchObject({ redis: 'service_healthy' });
    }
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, condition] of Object.entries(dependencies(service))) {
        expect({ service: name, dependency, exists: dependency in services }).toEqual({
          service: name,
          dependency,
          exists: true,
        });
        if (condition === 'service_healthy') {
          const check = services[dependency].healthcheck;
          expect({ dependency, checked: Boolean(check?.test) && !check?.disable }).toEqual({
            dependency,
            checked: true,
          });
        }
      }
    }
  });

  it('builds the api and the agents from the Dockerfile at the root', () => {
    for (const [, service] of [...apiServices, ...agentServices]) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
      const context = build.context ?? '.';
      expect(existsSync(join(ROOT, context, build.dockerfile ?? 'Dockerfile'))).toBe(true);
      expect(posix.normalize(context)).toBe('.');
    }
  });

  it('runs node itself, with an init, and gives it time to shut down gracefully on SIGTERM', () => {
    const seconds = (period: string | undefined) => {
      const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(period ?? '10s');
      return match ? Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0) : NaN;
    };
    for (const [name, service] of [...apiServices, ...agentServices]) {
      expect({ name, program: commandOf(service)[0], init: service.init }).toEqual({
        name,
        program: 'node',
        init: true,
      });
    }
    // The api lets requests in flight finish for up to 10 s before closing its connections.
    for (const [, service] of apiServices) expect(seconds(service.stop_grace_period)).toBeGreaterThan(10);
    for (const [, service] of agentServices) expect(seconds(service.stop_grace_period)).toBeGreaterThanOrEqual(30);
  });
});

function interpolateAll(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, interpolate(value, `from-the-shell-${'x'.repeat(16)}`)]),
  );
}

describe('Dockerfile', () => {
  it('builds with tsc -b from the root tsconfig, which builds the api and the agent', () => {
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((run) => /\b(?:npx )?tsc -b\b/.test(run))).toBe(true);
    const references = (tsProject('.').references ?? []).map((r) => posix.normalize(r.path));
    expect(references).toEqual(expect.arrayContaining(['apps/api', 'apps/agent']));
  });

  it.each(['apps/api/dist/main.js', 'apps/agent/dist/main.js'])('produces %s, which a process starts', (file) => {
    // apps/<app>/dist/main.js is tsc's output for apps/<app>/src/main.ts.
    const app = file.split('/').slice(0, 2).join('/');
    const options = tsProject(app).compilerOptions ?? {};
    expect(posix.join(app, options.outDir ?? '', 'main.js')).toBe(file);
    expect(existsSync(join(ROOT, app, options.rootDir ?? '.', 'main.ts'))).toBe(true);
    const started = [defaultCommand, ...Object.values(services).map(commandOf)].map(entryFile);
    expect(started).toContain(file);
  });

  it('starts the api by default, with node in exec form so SIGTERM reaches it', () => {
    expect(defaultCommand).toEqual(['node', 'apps/api/dist/main.js']);
    expect(instructions.some((i) => i.op === 'ENTRYPOINT' && i.stage === finalStage)).toBe(false);
  });

  it('carries the build into the final image', () => {
    const copies = instructions.filter((i) => i.op === 'COPY' && i.stage === finalStage).map((i) => i.args);
    expect(copies.some((args) => /^--from=\S+\s+\/app\s+\/app$/.test(args))).toBe(true);
  });

  it('copies package.json of every npm workspace before npm ci, or npm ci fails on the lockfile', () => {
    const npmCi = instructions.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(npmCi).toBeGreaterThan(0);
    const copied = instructions
      .slice(0, npmCi)
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    for (const folder of workspaceFolders()) expect(copied).toContain(`${folder}/package.json`);
  });
});

describe('.dockerignore', () => {
  it('leaves out installed modules and build output, so the image installs and builds its own', () => {
    expect(ignored('node_modules')).toBe(true);
    expect(ignored('libs/config/node_modules/x/index.js')).toBe(true);
    expect(ignored('apps/api/dist/main.js')).toBe(true);
    expect(ignored('.git/HEAD')).toBe(true);
  });

  it('keeps everything the build reads', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.base.json',
      'apps/api/tsconfig.json',
      'apps/api/src/main.ts',
      'apps/agent/src/main.ts',
      ...workspaceFolders().flatMap((folder) => [`${folder}/package.json`, `${folder}/tsconfig.json`]),
    ];
    expect(needed.filter((path) => ignored(path))).toEqual([]);
  });

  it("leaves out every project's .tsbuildinfo: a stale one would make tsc -b in the image skip emitting", () => {
    const projects = (tsProject('.').references ?? []).map((r) => posix.normalize(r.path));
    expect(projects.length).toBeGreaterThan(2);
    for (const project of projects) {
      const options = tsProject(project).compilerOptions ?? {};
      const buildInfo = options.tsBuildInfoFile
        ? posix.join(project, options.tsBuildInfoFile)
        : posix.join(project, options.outDir ?? '.', 'tsconfig.tsbuildinfo');
      expect({ project, buildInfo, ignored: ignored(buildInfo) }).toEqual({ project, buildInfo, ignored: true });
    }
  });
});
