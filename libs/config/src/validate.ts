import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** Validates raw environment variables against a schema class; every problem is listed at once. */
export function validateEnvironment<T extends object>(schema: new () => T, raw: Record<string, string | undefined>): T {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const instance = plainToInstance(schema, defined, { enableImplicitConversion: true, exposeDefaultValues: true });
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return instance;
}

/** Implicit conversion would read the string "false" as true; environment booleans are spelled out. */
export function parseBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  return value;
}
