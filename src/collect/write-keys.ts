// Write keys: who may send, and under which tenant and source their calls land. From `--write-key KEY[:TENANT[:SOURCE]]`
// (repeatable) and C360_COLLECT_WRITE_KEYS (the same entries, comma separated; in Azure a Container Apps secret that
// references Key Vault, see bicep/modules/collector.bicep).
import { UsageError } from '../runtime/errors.ts';

export interface WriteKey {
  key: string;
  /** Tenant stamped on every record (TENANT_ID); identity resolution never links across tenants. */
  tenant: string;
  /** SOURCE_SYSTEM of every record: the namespace of the userIds and anonymousIds this key sends. */
  source: string;
}

export const DEFAULT_TENANT = 'default';
export const DEFAULT_SOURCE = 'WEB';
const PART = /^[A-Za-z0-9._-]+$/;

export function parseWriteKey(entry: string, origin = '--write-key'): WriteKey {
  const [key = '', tenant, source, ...rest] = entry.trim().split(':');
  const problem = (what: string) =>
    new UsageError(`${origin}: '${entry}' ${what}; expected KEY[:TENANT[:SOURCE]] with letters, digits, '.', '_' or '-' (e.g. wk_live_3f9a:acme:WEB)`);
  if (rest.length > 0) throw problem('has too many parts');
  if (!PART.test(key) || key.length < 8) throw problem('needs a key of at least 8 characters');
  if (tenant !== undefined && !PART.test(tenant)) throw problem('has an empty or invalid tenant');
  if (source !== undefined && !PART.test(source)) throw problem('has an empty or invalid source');
  if ((tenant?.length ?? 0) > 50 || (source?.length ?? 0) > 50) throw problem('has a tenant or source longer than 50 characters');
  return { key, tenant: tenant ?? DEFAULT_TENANT, source: (source ?? DEFAULT_SOURCE).toUpperCase() };
}

/** All keys from flags and the environment; a key given twice must agree on tenant and source. */
export function loadWriteKeys(flags: readonly string[], env: string | undefined = process.env.C360_COLLECT_WRITE_KEYS): Map<string, WriteKey> {
  const entries = [
    ...flags.map((f) => parseWriteKey(f)),
    ...(env ?? '')
      .split(/[,\s]+/)
      .filter((e) => e !== '')
      .map((e) => parseWriteKey(e, 'C360_COLLECT_WRITE_KEYS')),
  ];
  const keys = new Map<string, WriteKey>();
  for (const k of entries) {
    const seen = keys.get(k.key);
    if (seen && (seen.tenant !== k.tenant || seen.source !== k.source)) {
      throw new UsageError(`Write key ${mask(k.key)} is given twice with different tenant/source (${seen.tenant}:${seen.source} and ${k.tenant}:${k.source})`);
    }
    keys.set(k.key, k);
  }
  if (keys.size === 0) {
    throw new UsageError('No write keys: pass --write-key KEY[:TENANT[:SOURCE]] (repeatable) or set C360_COLLECT_WRITE_KEYS=KEY[:TENANT[:SOURCE]],...');
  }
  return keys;
}

/** The write key of an `Authorization: Basic base64(key:)` header (Segment: key as user name, empty password). */
export function basicAuthKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // Segment accepts a key encoded without the colon too (backward compatibility).
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  return user === '' ? undefined : user;
}

/** A key as logs may show it. */
export function mask(key: string): string {
  return key.length <= 6 ? '***' : `${key.slice(0, 4)}…${key.slice(-2)}`;
}
