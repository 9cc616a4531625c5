import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { loadApiConfig } from '@snapdeck/config';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { AppModule } from '../app.module.js';
import { registerDomainEnums } from '../common/enums.graphql.js';
import { describeRootTypes } from './root-types.js';

/** Where the committed schema lives, relative to the repository root. */
export const SCHEMA_FILE = 'schema.graphql';
/** What refreshes it (the stale-schema test names it). */
export const SCHEMA_REFRESH_COMMAND = 'npm run build';

type Class = abstract new (...args: never[]) => unknown;
type ModuleEntry = Class | { module: Class; imports?: unknown[]; providers?: unknown[] } | undefined;

/**
 * The api's schema as Apollo serves it (code-first, sorted), built without a database or a server: every class
 * provider of the api's module tree goes to Nest's schema factory, as GraphQLModule does with the providers it
 * finds at start-up, so a resolver added to any module is in the file without a list to keep.
 */
export async function buildApiSchema(): Promise<GraphQLSchema> {
  registerDomainEnums();
  const app = await NestFactory.createApplicationContext(GraphQLSchemaBuilderModule, { logger: false });
  try {
    const factory = app.get(GraphQLSchemaFactory);
    const providers = providerClasses(AppModule.forRoot(loadApiConfig({})));
    return lexicographicSortSchema(describeRootTypes(await factory.create(providers)));
  } finally {
    await app.close();
  }
}

/** The text of schema.graphql: the printed schema with a trailing newline. */
export async function printApiSchema(): Promise<string> {
  return `${printSchema(await buildApiSchema())}\n`;
}

/** Class providers of a module and of everything it imports (static modules by metadata, dynamic by value). */
function providerClasses(root: ModuleEntry): Class[] {
  const found = new Set<Class>();
  const seen = new Set<unknown>();
  const visit = (entry: ModuleEntry): void => {
    if (!entry || seen.has(entry)) return;
    seen.add(entry);
    const moduleClass = typeof entry === 'function' ? entry : entry.module;
    const dynamic: { imports?: unknown[]; providers?: unknown[] } = typeof entry === 'function' ? {} : entry;
    const providers = [
      ...((Reflect.getMetadata('providers', moduleClass) as unknown[] | undefined) ?? []),
      ...(dynamic.providers ?? []),
    ];
    for (const provider of providers) {
      if (typeof provider === 'function') found.add(provider as Class);
      else if (provider && typeof provider === 'object' && 'useClass' in provider) {
        found.add((provider as { useClass: Class }).useClass);
      }
    }
    const imports = [
      ...((Reflect.getMetadata('imports', moduleClass) as unknown[] | undefined) ?? []),
      ...(dynamic.imports ?? []),
    ];
    for (const imported of imports) {
      // Promises (forRootAsync of libraries) and forward references hold no resolvers of ours.
      if (typeof imported === 'function' || (imported && typeof imported === 'object' && 'module' in imported)) {
        visit(imported as ModuleEntry);
      }
    }
  };
  visit(root);
  return [...found];
}
