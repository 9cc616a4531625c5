const MAX_LENGTH = 1000;

/**
 * One readable line for any thrown value: the message without the stack, since it becomes a job's error
 * (which users read) and a log line.
 */
export function describeError(error: unknown): string {
  let text: string;
  if (isErrorLike(error)) {
    const name = typeof error.name === 'string' ? error.name : 'Error';
    const message = error.message.trim();
    text = !message ? name : name && name !== 'Error' ? `${name}: ${message}` : message;
  } else if (typeof error === 'string') {
    text = error;
  } else {
    text = safeJson(error) ?? String(error);
  }
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_LENGTH ? `${oneLine.slice(0, MAX_LENGTH - 1)}…` : oneLine || 'unknown error';
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** Duck-typed, because errors made in another realm (Node core seen from a vm context) fail `instanceof Error`. */
function isErrorLike(value: unknown): value is { name?: unknown; message: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}
