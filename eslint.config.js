// ESLint flat config. TypeScript sources are linted with type information from tsconfig.test.json, the one
// project that covers apps, libraries, migrations and tests (specs included); plain JS/MJS files (configs and
// scripts) get ESLint's recommended rules only.
import path from 'node:path';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;
const TS_SOURCES = ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts', 'test/**/*.ts', 'migrations/**/*.ts'];

/**
 * Apps and libraries talk to each other through their `@snapdeck/*` aliases, never through a relative path that
 * leaves the app or library it starts in (`../../libs/domain/src/…`, `../../agent/src/…` from apps/api). A glob
 * or regex on the import text cannot see every such path, so this resolves it against the importing file.
 * End-to-end tests may still start the processes through `apps/<app>/src/bootstrap.js`.
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
        // Tests and the all-in-one process (the one composition root of both apps) start apps by their bootstrap.
        const allowedOutside =
          top === 'test'
            ? /^apps\/[^/]+\/src\/bootstrap\.(js|ts)$/
            : unit === 'apps/all-in-one'
              ? /^apps\/(api|agent)\/dist\/bootstrap\.js$/
              : null;

        function check(node, source) {
          if (typeof source !== 'string' || !source.startsWith('.')) return;
          const target = path
            .relative(ROOT, path.resolve(path.dirname(context.filename), source))
            .split(path.sep)
            .join('/');
          if (target === unit || target.startsWith(`${unit}/`)) return;
          if (allowedOutside?.test(target)) return;
          const [targetTop, targetName] = target.split('/');
          const messageId = targetTop === 'libs' ? 'library' : targetTop === 'apps' ? 'app' : 'other';
          const described = messageId === 'other' ? targetTop : `${targetTop}/${targetName}`;
          context.report({ node, messageId, data: { source, unit, target: described } });
        }

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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@snapdeck/*/*'],
              message: "Import a library through its entry point ('@snapdeck/<name>'), not its files.",
            },
          ],
        },
      ],
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

  {
    // The domain is plain TypeScript: no framework or ORM decorators there.
    files: ['libs/domain/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@snapdeck/*/*'],
              message: "Import a library through its entry point ('@snapdeck/<name>'), not its files.",
            },
            {
              group: ['@nestjs/*', 'typeorm', 'class-validator', 'class-transformer', '@snapdeck/*'],
              message: 'libs/domain is plain TypeScript and depends on nothing else in the repository.',
            },
          ],
        },
      ],
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
