// ESLint flat config. TypeScript sources are linted with type information from tsconfig.test.json, the one
// project that covers apps, libraries, migrations and tests (specs included); plain JS/MJS files (configs and
// scripts) get ESLint's recommended rules only.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;
const TS_SOURCES = ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts', 'test/**/*.ts', 'migrations/**/*.ts'];

/**
 * Which `@snapdeck/*` packages each package may import: an allow-list, so a new dependency between packages is a
 * decision written here, not an accident (the architecture: the agent never touches the database, the domain
 * depends on nothing, the contracts on the domain at most). Inside a package, imports are relative, so a package
 * never lists itself. Specs beside the code may also use SPEC_EXTRAS. Every folder under apps/ and libs/ must have
 * an entry (the config refuses to load otherwise); test/lint/boundaries.spec.ts proves each list is enforced.
 */
const ALLOWED_PACKAGES = {
  'apps/api': ['config', 'contracts', 'domain', 'logging', 'migrations', 'persistence', 'transport'],
  'apps/agent': ['config', 'contracts', 'domain', 'logging', 'transport'],
  // The one composition root of both apps: starts them through their package entries (their bootstraps).
  'apps/all-in-one': ['agent', 'api', 'config', 'embedded-postgres', 'transport'],
  // Reads DEFAULT_ORGANIZATION_LIMITS with the domain's parser of organization limits.
  'libs/config': ['domain'],
  'libs/contracts': ['domain'],
  'libs/domain': [],
  'libs/embedded-postgres': [],
  'libs/logging': ['config'],
  'libs/persistence': ['contracts', 'domain'],
  'libs/testing': ['embedded-postgres', 'migrations', 'persistence'],
  'libs/transport': ['contracts'],
  migrations: [],
  test: ['agent', 'api', 'config', 'contracts', 'testing', 'transport'],
};
/** What `*.spec.ts` / `*.int-spec.ts` files may import on top of their package's list. */
const SPEC_EXTRAS = {
  default: ['testing'],
  // The schema spec checks that the migrations build exactly the entities' schema.
  'libs/persistence': ['testing', 'migrations'],
  // The test kit's own specs import it relatively, like any package's code.
  'libs/testing': [],
};

for (const top of ['apps', 'libs']) {
  for (const entry of readdirSync(path.join(ROOT, top), { withFileTypes: true })) {
    if (entry.isDirectory() && !(`${top}/${entry.name}` in ALLOWED_PACKAGES)) {
      throw new Error(`eslint.config.js: ${top}/${entry.name} has no entry in ALLOWED_PACKAGES`);
    }
  }
}

/** `no-restricted-imports` options: libraries through their entry points only, plus a package's own patterns. */
function restrictedImports(...patterns) {
  return [
    'error',
    {
      patterns: [
        {
          group: ['@snapdeck/*/*'],
          message: "Import a library through its entry point ('@snapdeck/<name>'), not its files.",
        },
        ...patterns,
      ],
    },
  ];
}

/** The visitors of every form of import and re-export, each handing `check` the node to report and its source. */
function importVisitors(check) {
  const fromSource = (node) => check(node.source, node.source?.value);
  return {
    ImportDeclaration: fromSource,
    ExportAllDeclaration: fromSource,
    ExportNamedDeclaration: (node) => node.source && fromSource(node),
    ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    TSImportEqualsDeclaration: (node) =>
      node.moduleReference.type === 'TSExternalModuleReference' &&
      check(node.moduleReference.expression, node.moduleReference.expression.value),
  };
}

/**
 * Apps and libraries talk to each other through their `@snapdeck/*` aliases, never through a relative path that
 * leaves the app or library it starts in (`../../libs/domain/src/…`, `../../agent/src/…` from apps/api). A glob
 * or regex on the import text cannot see every such path, so this resolves it against the importing file.
 * The apps are packages too: tests and apps/all-in-one start them through `@snapdeck/api` and `@snapdeck/agent`.
 */
const boundaries = {
  rules: {
    'no-cross-boundary-import': {
      meta: {
        type: 'problem',
        docs: { description: 'Forbid relative imports that leave the app or library of the importing file' },
        schema: [],
        messages: {
          library:
            "Relative import '{{source}}' leaves {{unit}}; import {{target}} through its @snapdeck/* alias (or move the code).",
          app: "Relative import '{{source}}' leaves {{unit}} for {{target}}; code shared with an app belongs in a library.",
          other:
            "Relative import '{{source}}' leaves {{unit}}; keep imports inside it or go through a @snapdeck/* alias.",
        },
      },
      create(context) {
        const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
        const [top, name] = file.split('/');
        const unit = top === 'apps' || top === 'libs' ? `${top}/${name}` : top;

        function check(node, source) {
          if (typeof source !== 'string' || !source.startsWith('.')) return;
          const target = path
            .relative(ROOT, path.resolve(path.dirname(context.filename), source))
            .split(path.sep)
            .join('/');
          if (target === unit || target.startsWith(`${unit}/`)) return;
          const [targetTop, targetName] = target.split('/');
          const messageId = targetTop === 'libs' ? 'library' : targetTop === 'apps' ? 'app' : 'other';
          const described = messageId === 'other' ? targetTop : `${targetTop}/${targetName}`;
          context.report({ node, messageId, data: { source, unit, target: described } });
        }

        return importVisitors(check);
      },
    },
    'allowed-packages': {
      meta: {
        type: 'problem',
        docs: { description: 'Allow a package to import only the @snapdeck/* packages on its list (ALLOWED_PACKAGES)' },
        schema: [
          {
            type: 'object',
            properties: { unit: { type: 'string' }, allow: { type: 'array', items: { type: 'string' } } },
            required: ['unit', 'allow'],
            additionalProperties: false,
          },
        ],
        messages: {
          forbidden:
            "{{unit}} may not import '{{source}}': it may import {{allowed}} (ALLOWED_PACKAGES in eslint.config.js).",
        },
      },
      create(context) {
        const { unit, allow } = context.options[0];
        const allowed =
          allow.length > 0 ? allow.map((name) => `@snapdeck/${name}`).join(', ') : 'no @snapdeck/* package';
        return importVisitors((node, source) => {
          const name = typeof source === 'string' ? /^@snapdeck\/([^/]+)/.exec(source)?.[1] : undefined;
          if (name === undefined || allow.includes(name)) return;
          context.report({ node, messageId: 'forbidden', data: { unit, source, allowed } });
        });
      },
    },
  },
};

export default defineConfig([
  globalIgnores(['**/dist/', '**/node_modules/', '**/coverage/', '.snapdeck/']),

  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },

  {
    files: TS_SOURCES,
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX, snapdeck: boundaries },
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: ROOT,
      },
    },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Resolves like TypeScript does: `.js` specifiers to their `.ts` sources, and the `@snapdeck/*` workspace
      // packages through tsconfig.test.json's `paths` to libs/*/src (their package.json points at dist/, which
      // is built output and would hide cycles that run through a library).
      'import-x/resolver-next': [
        createNodeResolver({
          tsconfig: { configFile: path.join(ROOT, 'tsconfig.test.json') },
          extensions: ['.ts', '.js', '.mjs', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'] },
          conditionNames: ['types', 'import', 'default'],
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        {
          // A `default:` does not excuse a switch over a union from naming every member (assertUnreachable).
          considerDefaultExhaustiveForUnions: false,
          allowDefaultCaseForExhaustiveSwitch: true,
          requireDefaultForNonUnion: false,
        },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // `Model.from` is passed as a mapper everywhere; static factories do not use `this`.
      '@typescript-eslint/unbound-method': ['error', { ignoreStatic: true }],
      'snapdeck/no-cross-boundary-import': 'error',
      'no-restricted-imports': restrictedImports(),
      // Allowed: `x!` states a fact the compiler cannot follow (an index or a map key checked just before).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Config classes spell out `PORT: number = 3000`: decorator metadata (and implicit conversion) needs it.
      '@typescript-eslint/no-inferrable-types': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  // Each package's allow-list of @snapdeck/* packages; its specs get SPEC_EXTRAS on top.
  ...Object.entries(ALLOWED_PACKAGES).flatMap(([unit, allow]) => [
    {
      files: [`${unit}/**/*.{ts,js,mjs}`],
      plugins: { snapdeck: boundaries },
      rules: { 'snapdeck/allowed-packages': ['error', { unit, allow }] },
    },
    {
      files: [`${unit}/**/*.spec.ts`, `${unit}/**/*.int-spec.ts`],
      plugins: { snapdeck: boundaries },
      rules: {
        'snapdeck/allowed-packages': [
          'error',
          { unit, allow: [...new Set([...allow, ...(SPEC_EXTRAS[unit] ?? SPEC_EXTRAS.default)])] },
        ],
      },
    },
  ]),

  {
    // The domain is plain TypeScript: no framework or ORM decorators there.
    files: ['libs/domain/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrictedImports({
        group: ['@nestjs/*', 'typeorm', 'class-validator', 'class-transformer'],
        message: 'libs/domain is plain TypeScript and depends on nothing else in the repository.',
      }),
    },
  },

  {
    // The agent never touches the database (the api owns it): no ORM, no PostgreSQL client, not even in its tests.
    files: ['apps/agent/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrictedImports({
        group: ['typeorm', 'typeorm/*', '@nestjs/typeorm', 'pg', 'pg/*'],
        message: 'apps/agent never touches the database: it reports results and the api applies them.',
      }),
    },
  },

  {
    // Tests read GraphQL answers as JSON: typing every response shape would be ceremony, not safety.
    files: ['test/**/*.ts', '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
]);
