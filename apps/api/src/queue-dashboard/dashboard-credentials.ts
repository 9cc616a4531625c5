import { bearerToken } from '../auth/token.js';

/** The realm a browser shows when it asks for the dashboard's credentials. */
export const DASHBOARD_REALM = 'Snapdeck queues';

/**
 * The api token an operator presents to the queue dashboard: `Authorization: Bearer <token>` for scripts, or
 * HTTP Basic auth whose password is the token (any user name) for a browser, which cannot add a bearer header.
 * Null when the header carries neither.
 */
export function dashboardToken(header: string | string[] | undefined): string | null {
  const bearer = bearerToken(header);
  if (bearer) return bearer;
  const value = Array.isArray(header) ? header[0] : header;
  const encoded = value?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i)?.[1];
  if (!encoded) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const password = decoded.slice(colon + 1);
  return password === '' ? null : password;
}
