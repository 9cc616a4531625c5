import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';

/**
 * The package boundaries of eslint.config.js, proved on snippets: ESLint lints each snippet as if it were a file of
 * the package (`lintText` with a `filePath` there; the file need not exist) and must report the forbidden imports
 * and none of the allowed ones. The expectations are the architecture (the agent never touches the database, the
 * domain depends on nothing, …), written out here rather than read from the config, so that loosening a list fails
 * this test. Only the boundary rules run, without type information: they read the import text, not types.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const BOUNDARY_RULES = ['snapdeck/allowed-packages', 'snapdeck/no-cross-boundary-import', 'no-restricted-imports'];

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: { languageOptions: { parserOptions: { project: false } } },
    ruleFilter: ({ ruleId }) => BOUNDARY_RULES.includes(ruleId),
  });
});

/** The boundary problems ESLint reports for `code` in `file`; fails on a parse error or an ignored file. */
async function problems(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file), warnIgnored: true });
  const messages = result.messages;
  expect(messages.filter((m) => m.fatal === true || m.ruleId === null)).toEqual([]);
  return messages;
}

const importOf = (source: string) => `import '${source}';\n`;

interface PackageCase {
  unit: string;
  /** A production file of the package. */
  file: string;
  forbidden: string[];
  /** Imports that must pass; for a package that may import no @snapdeck/* package, a third-party or relative one. */
  allowed: string[];
}

const PACKAGES: PackageCase[] = [
  {
    unit: 'apps/api',
    file: 'apps/api/src/probe.ts',
    forbidden: ['@snapdeck/agent', '@snapdeck/testing', '@snapdeck/embedded-postgres', '@snapdeck/api'],
    allowed: [
      '@snapdeck/config',
      '@snapdeck/contracts',
      '@snapdeck/domain',
      '@snapdeck/logging',
      '@snapdeck/migrations',
      '@snapdeck/persistence',
      '@snapdeck/transport',
    ],
  },
  {
    unit: 'apps/agent',
    file: 'apps/agent/src/drivers/probe.ts',
    forbidden: ['@snapdeck/persistence', '@snapdeck/migrations', '@snapdeck/api', '@snapdeck/testing'],
    allowed: [
      '@snapdeck/config',
      '@snapdeck/contracts',
      '@snapdeck/domain',
      '@snapdeck/logging',
      '@snapdeck/transport',
    ],
  },
  {
    unit: 'apps/all-in-one',
    file: 'apps/all-in-one/src/probe.ts',
    forbidden: ['@snapdeck/persistence', '@snapdeck/testing', '@snapdeck/domain'],
    allowed: [
      '@snapdeck/agent',
      '@snapdeck/api',
      '@snapdeck/config',
      '@snapdeck/embedded-postgres',
      '@snapdeck/transport',
    ],
  },
  {
    unit: 'libs/config',
    file: 'libs/config/src/probe.ts',
    forbidden: ['@snapdeck/logging', '@snapdeck/persistence'],
    allowed: ['class-validator', './agent-config.js', '@snapdeck/domain'],
  },
  {
    unit: 'libs/contracts',
    file: 'libs/contracts/src/probe.ts',
    forbidden: ['@snapdeck/persistence', '@snapdeck/transport', '@snapdeck/config'],
    allowed: ['@snapdeck/domain'],
  },
  {
    unit: 'libs/domain',
    file: 'libs/domain/src/probe.ts',
    forbidden: ['@snapdeck/contracts', '@snapdeck/persistence'],
    allowed: ['./machines.js'],
  },
  {
    unit: 'libs/embedded-postgres',
    file: 'libs/embedded-postgres/src/probe.ts',
    forbidden: ['@snapdeck/config', '@snapdeck/persistence'],
    allowed: ['pg'],
  },
  {
    unit: 'libs/logging',
    file: 'libs/logging/src/probe.ts',
    forbidden: ['@snapdeck/persistence', '@snapdeck/domain'],
    allowed: ['@snapdeck/config'],
  },
  {
    unit: 'libs/persistence',
    file: 'libs/persistence/src/repositories/probe.ts',
    // Inside its own package a library imports relatively, never through its own alias.
    forbidden: ['@snapdeck/persistence', '@snapdeck/config', '@snapdeck/migrations', '@snapdeck/transport'],
    allowed: ['@snapdeck/domain', '@snapdeck/contracts'],
  },
  {
    unit: 'libs/testing',
    file: 'libs/testing/src/probe.ts',
    forbidden: ['@snapdeck/api', '@snapdeck/agent', '@snapdeck/contracts'],
    allowed: ['@snapdeck/persistence', '@snapdeck/migrations', '@snapdeck/embedded-postgres'],
  },
  {
    // Its plain-JS global set-up is part of the package too.
    unit: 'libs/testing',
    file: 'libs/testing/probe.mjs',
    forbidden: ['@snapdeck/api', '@snapdeck/config'],
    allowed: ['@snapdeck/persistence', '@snapdeck/migrations'],
  },
  {
    unit: 'libs/transport',
    file: 'libs/transport/src/probe.ts',
    forbidden: ['@snapdeck/persistence', '@snapdeck/config', '@snapdeck/domain'],
    allowed: ['@snapdeck/contracts'],
  },
  {
    unit: 'migrations',
    file: 'migrations/1700000000000-Probe.ts',
    forbidden: ['@snapdeck/persistence', '@snapdeck/domain'],
    allowed: ['typeorm'],
  },
  {
    unit: 'test',
    file: 'test/support/probe.ts',
    forbidden: ['@snapdeck/persistence', '@snapdeck/domain', '@snapdeck/migrations'],
    allowed: [
      '@snapdeck/agent',
      '@snapdeck/api',
      '@snapdeck/config',
      '@snapdeck/contracts',
      '@snapdeck/testing',
      '@snapdeck/transport',
    ],
  },
];

describe('package allow-lists (snapdeck/allowed-packages)', () => {
  describe.each(PACKAGES)('$file ($unit)', ({ unit, file, forbidden, allowed }) => {
    it.each(forbidden)('reports %s', async (source) => {
      const found = await problems(file, importOf(source));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ ruleId: 'snapdeck/allowed-packages', line: 1 });
      expect(found[0].message).toContain(`${unit} may not import '${source}'`);
    });

    it.each(allowed)('lets %s through', async (source) => {
      expect(await problems(file, importOf(source))).toEqual([]);
    });
  });

  it('gives every app and library under apps/ and libs/ a list, and migrations/ and test/ too', async () => {
    const units = ['apps', 'libs'].flatMap((top) =>
      readdirSync(path.join(ROOT, top), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${top}/${entry.name}/src/index.ts`),
    );
    expect(units.length).toBeGreaterThanOrEqual(11);
    for (const file of [...units, 'migrations/index.ts', 'test/support/stack.ts']) {
      const config = (await eslint.calculateConfigForFile(path.join(ROOT, file))) as Linter.Config;
      expect([file, config.rules?.['snapdeck/allowed-packages']]).toEqual([
        file,
        [2, expect.objectContaining({ allow: expect.any(Array) })],
      ]);
    }
  });

  it('catches every form of import: type-only, re-exports, dynamic import() and import = require()', async () => {
    const code = [
      "import type { Database } from '@snapdeck/persistence';",
      "export * from '@snapdeck/persistence';",
      "export { createDataSource } from '@snapdeck/persistence';",
      "export const later = () => import('@snapdeck/persistence');",
      "import entities = require('@snapdeck/persistence');",
      'export type Both = [Database, typeof entities];',
    ].join('\n');
    const found = await problems('apps/agent/src/probe.ts', code);
    expect(found.map((m) => [m.ruleId, m.line])).toEqual(
      [1, 2, 3, 4, 5].map((line) => ['snapdeck/allowed-packages', line]),
    );
  });
});

describe('specs beside the code', () => {
  it('may use the test kit, which production files of the same package may not', async () => {
    for (const file of [
      'apps/agent/src/agent.int-spec.ts',
      'apps/api/src/probe.spec.ts',
      'libs/domain/src/x.spec.ts',
    ]) {
      expect(await problems(file, importOf('@snapdeck/testing'))).toEqual([]);
    }
    const found = await problems('apps/agent/src/agent.ts', importOf('@snapdeck/testing'));
    expect(found.map((m) => m.ruleId)).toEqual(['snapdeck/allowed-packages']);
  });

  it('of the test kit itself do not import it through its alias', async () => {
    const found = await problems('libs/testing/src/databases.spec.ts', importOf('@snapdeck/testing'));
    expect(found.map((m) => m.ruleId)).toEqual(['snapdeck/allowed-packages']);
  });

  it('get nothing else: an agent spec still may not reach the database package', async () => {
    const found = await problems('apps/agent/src/jobs/probe.spec.ts', importOf('@snapdeck/persistence'));
    expect(found.map((m) => m.ruleId)).toEqual(['snapdeck/allowed-packages']);
  });

  it('of the persistence library may read the migrations too (the schema spec needs them)', async () => {
    expect(await problems('libs/persistence/src/schema.int-spec.ts', importOf('@snapdeck/migrations'))).toEqual([]);
    const found = await problems('libs/persistence/src/database.ts', importOf('@snapdeck/migrations'));
    expect(found.map((m) => m.ruleId)).toEqual(['snapdeck/allowed-packages']);
  });
});

describe('the other boundary rules', () => {
  it('keep the agent away from database clients (no-restricted-imports)', async () => {
    for (const source of ['typeorm', '@nestjs/typeorm', 'pg']) {
      const found = await problems('apps/agent/src/probe.ts', importOf(source));
      expect([source, found.map((m) => m.ruleId)]).toEqual([source, ['no-restricted-imports']]);
    }
    expect(await problems('apps/api/src/probe.ts', importOf('typeorm'))).toEqual([]);
  });

  it("keep a library's files behind its entry point (no-restricted-imports)", async () => {
    const found = await problems('apps/api/src/probe.ts', importOf('@snapdeck/domain/machines'));
    expect(found.map((m) => m.ruleId)).toEqual(['no-restricted-imports']);
  });

  it('refuse relative paths out of a package, the old all-in-one path to the agent included', async () => {
    const cases: [string, string][] = [
      ['apps/all-in-one/src/probe.ts', '../../agent/dist/bootstrap.js'],
      ['test/probe.ts', '../apps/api/src/bootstrap.js'],
      ['apps/agent/src/probe.ts', '../../../libs/persistence/src/index.js'],
    ];
    for (const [file, source] of cases) {
      const found = await problems(file, importOf(source));
      expect([file, found.map((m) => m.ruleId)]).toEqual([file, ['snapdeck/no-cross-boundary-import']]);
    }
    expect(await problems('apps/agent/src/drivers/probe.ts', importOf('../clock.js'))).toEqual([]);
  });
});
