/**
 * The URL scheme a port speaks (from its appProtocol, else its kind) and the alias variables every
 * client of a database or cache gets. The emitters write URLs with them; the variable rules check
 * the same aliases, so both read them from here.
 */
export type Scheme = 'postgres' | 'redis' | 'http' | 'https' | 'ws' | 'wss';

const SCHEMES: Record<string, Scheme> = {
  postgres: 'postgres', postgresql: 'postgres', redis: 'redis', valkey: 'redis',
  http: 'http', https: 'https', ws: 'ws', wss: 'wss', websocket: 'ws',
  'kubernetes.io/ws': 'ws', 'kubernetes.io/wss': 'wss', 'kubernetes.io/h2c': 'http',
};

/** The URL scheme of a port: its appProtocol if known, else its kind. */
export function schemeOf(kind: string | undefined, appProtocol: string | undefined): Scheme | undefined {
  for (const k of [appProtocol, kind]) {
    const scheme = k ? SCHEMES[k.toLowerCase()] : undefined;
    if (scheme) return scheme;
  }
  return undefined;
}

/** The aliases every client of one database or cache also gets, where unambiguous. */
export const ALIASES: Record<string, string> = { postgres: 'DATABASE_URL', redis: 'REDIS_URL' };

