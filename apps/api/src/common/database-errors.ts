/** PostgreSQL's unique_violation: a concurrent request took the same unique value first. */
export function isUniqueViolation(error: unknown): boolean {
  const code =
    (error as { code?: unknown; driverError?: { code?: unknown } } | null)?.driverError?.code ??
    (error as { code?: unknown } | null)?.code;
  return code === '23505';
}
