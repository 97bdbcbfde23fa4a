// Who is calling and what they may see. API keys (`KEY:ROLE[:NAME]`, from --api-key or C360_API_KEYS) are sent as
// `Authorization: Bearer KEY`. Two roles: `agent` sees personal data in clear, `analyst` sees it masked by the PII
// class of each field (src/privacy/masking.ts, the same rules as the Snowflake masking policies).
import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../runtime/errors.ts';
import { ApiError } from './identifiers.ts';

export const ROLES = ['agent', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** Who, for the audit log and the rate limit: the key's name, or the token's subject. */
  id: string;
  role: Role;
  via: 'api-key' | 'entra-id';
}

export interface ApiKey {
  key: string;
  role: Role;
  name: string;
}

const fingerprint = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/** Parses KEY:ROLE[:NAME] specs (repeatable flag values, then the comma-separated environment variable). */
export function parseApiKeys(specs: readonly string[], env = process.env.C360_API_KEYS): ApiKey[] {
  const all = [...specs, ...(env ? env.split(',') : [])].map((s) => s.trim()).filter(Boolean);
  const keys: ApiKey[] = [];
  for (const spec of all) {
    const [key, role, name] = spec.split(':');
    if (!key || key.length < 16) throw new UsageError(`API key '${(key ?? '').slice(0, 4)}...' is too short: use at least 16 characters (KEY:ROLE[:NAME])`);
    if (!role || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`API key ${key.slice(0, 4)}...: role must be one of ${ROLES.join(', ')}, got '${role ?? ''}' (KEY:ROLE[:NAME])`);
    if (keys.some((k) => k.key === key)) throw new UsageError(`API key ${key.slice(0, 4)}... is given twice`);
    keys.push({ key, role: role as Role, name: name || `key-${fingerprint(key)}` });
  }
  return keys;
}

/** A verifier of bearer tokens that are not API keys (Entra ID JWTs); resolves a principal or throws ApiError 401/403. */
export type TokenVerifier = (token: string) => Promise<Principal>;

export class Authenticator {
  private readonly byHash = new Map<string, ApiKey>();
  constructor(
    keys: readonly ApiKey[],
    private readonly verifyToken?: TokenVerifier,
  ) {
    for (const k of keys) this.byHash.set(createHash('sha256').update(k.key).digest('hex'), k);
  }

  get configured(): boolean {
    return this.byHash.size > 0 || !!this.verifyToken;
  }

  /** `basic`: also accept Basic credentials whose password is an API key (what a browser sends after its prompt). */
  async authenticate(header: string | undefined, o: { basic?: boolean } = {}): Promise<Principal> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    const b = o.basic ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '') : null;
    if (!m && !b) {
      throw new ApiError(401, 'unauthorized', `Send Authorization: Bearer <API key or Entra ID access token>${o.basic ? ' (or Basic with the API key as the password)' : ''}`);
    }
    let token: string;
    if (b) {
      const pair = Buffer.from(b[1]!, 'base64').toString('utf8');
      token = pair.slice(pair.indexOf(':') + 1);
      if (!token) throw new ApiError(401, 'unauthorized', 'Basic credentials without a password: give the API key as the password');
    } else token = m![1]!;
    // Compare digests so the lookup time does not depend on how much of a key matches.
    const digest = createHash('sha256').update(token).digest();
    const k = this.byHash.get(digest.toString('hex'));
    if (k && timingSafeEqual(digest, createHash('sha256').update(k.key).digest())) return { id: k.name, role: k.role, via: 'api-key' };
    if (this.verifyToken && !b && token.split('.').length === 3) return this.verifyToken(token);
    throw new ApiError(401, 'unauthorized', 'Unknown API key');
  }
}

export interface EntraOptions {
  /** Directory (tenant) id: the issuer and key set follow from it. */
  tenantId?: string;
  /** The API's application id URI or client id: the token's aud. */
  audience: string;
  /** Overrides (other clouds, tests): the issuer(s) accepted and the key set URL. */
  issuer?: string | string[];
  jwksUrl?: string;
}

/**
 * Entra ID access tokens, validated with jose against the tenant's published signing keys (fetched and cached by
 * key id, refetched for an unknown one): signature (RS256), issuer (v2 and v1 forms), audience, expiry and
 * not-before (60 s clock tolerance). The role is the app role in the `roles` claim: agent, else analyst; a token with
 * neither is 403.
 */
export async function entraVerifier(o: EntraOptions): Promise<TokenVerifier> {
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  if (!o.tenantId && (!o.issuer || !o.jwksUrl)) throw new UsageError('Entra ID needs the tenant id (or both an issuer and a key set URL)');
  const issuer = o.issuer ?? [`https://login.microsoftonline.com/${o.tenantId}/v2.0`, `https://sts.windows.net/${o.tenantId}/`];
  const keys = createRemoteJWKSet(new URL(o.jwksUrl ?? `https://login.microsoftonline.com/${o.tenantId}/discovery/v2.0/keys`));
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer, audience: o.audience, algorithms: ['RS256'], clockTolerance: 60 }));
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code === 'ERR_JWKS_TIMEOUT' || /fetch failed|ECONNREFUSED/i.test(err.message)) {
        throw new ApiError(503, 'auth_unavailable', 'The identity provider\'s signing keys could not be fetched; retry shortly');
      }
      throw new ApiError(401, 'invalid_token', `Invalid token: ${err.message}`);
    }
    const roles = Array.isArray(payload.roles) ? payload.roles.map(String) : [];
    const role: Role | undefined = roles.includes('agent') ? 'agent' : roles.includes('analyst') ? 'analyst' : undefined;
    if (!role) throw new ApiError(403, 'forbidden', `The token carries no role of this API: its roles claim must hold ${ROLES.join(' or ')}`);
    const who = payload.preferred_username ?? payload.upn ?? payload.app_displayname ?? payload.azp ?? payload.oid ?? payload.sub;
    return { id: String(who ?? 'unknown'), role, via: 'entra-id' };
  };
}
