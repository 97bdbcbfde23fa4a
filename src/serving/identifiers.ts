// Profile ids as the API takes them: {idType}:{value}. E-mail and phone are normalised the way identity resolution
// normalises them (src/identity: trimmed, lower-cased, the e-mail match key; phone to E.164 with the default region),
// so a lookup finds the person whatever way the caller wrote the address or the number.
import { FORMAT_PATTERNS } from '../../schemas/contract.ts';
import { toE164 } from '../identity/phone.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const ID_TYPES = ['c360', 'source', 'email', 'phone'] as const;
export type IdType = (typeof ID_TYPES)[number];

export type ProfileId =
  | { type: 'c360'; id: string }
  | { type: 'source'; sourceSystem: string; customerId: string }
  | { type: 'email'; email: string }
  | { type: 'phone'; e164: string };

const C360_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const SOURCE_SYSTEM = /^[A-Z][A-Z0-9_]{0,49}$/;
const EMAIL = new RegExp(FORMAT_PATTERNS.email);

const bad = (message: string) => new ApiError(400, 'bad_id', message);

/** Parses `{idType}:{value}` (value already URL-decoded). */
export function parseProfileId(raw: string): ProfileId {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw bad(`Profile id '${raw.slice(0, 120)}' must be {idType}:{value} with idType one of ${ID_TYPES.join(', ')}`);
  const type = raw.slice(0, colon);
  const value = raw.slice(colon + 1).trim();
  if (!(ID_TYPES as readonly string[]).includes(type)) throw bad(`Unknown id type '${type.slice(0, 40)}': use one of ${ID_TYPES.join(', ')}`);
  if (!value) throw bad(`The ${type} id is empty`);
  switch (type as IdType) {
    case 'c360':
      if (!C360_ID.test(value)) throw bad(`Malformed c360 id '${value.slice(0, 120)}': letters, digits, '.', '_' and '-', at most 100`);
      return { type: 'c360', id: value };
    case 'source': {
      const slash = value.indexOf('/');
      const system = slash > 0 ? value.slice(0, slash).toUpperCase() : '';
      const customerId = slash > 0 ? value.slice(slash + 1).trim() : '';
      if (!SOURCE_SYSTEM.test(system) || !customerId || customerId.length > 100) {
        throw bad(`Malformed source id '${value.slice(0, 120)}': expected SOURCE_SYSTEM/CUSTOMER_ID, e.g. source:CRM/C-1001`);
      }
      return { type: 'source', sourceSystem: system, customerId };
    }
    case 'email': {
      const email = value.toLowerCase();
      if (!EMAIL.test(email)) throw bad(`Malformed e-mail '${value.slice(0, 120)}'`);
      return { type: 'email', email };
    }
    case 'phone': {
      const { e164, placeholder } = toE164(value);
      if (!e164) throw bad(`Malformed phone number '${value.slice(0, 60)}'${placeholder ? ' (a placeholder number)' : ''}: give it in international form, e.g. +16175550101`);
      return { type: 'phone', e164 };
    }
  }
}

/** The canonical path form of an id, for Location headers and audit lines. */
export function formatProfileId(id: ProfileId): string {
  switch (id.type) {
    case 'c360': return `c360:${id.id}`;
    case 'source': return `source:${id.sourceSystem}/${id.customerId}`;
    case 'email': return `email:${id.email}`;
    case 'phone': return `phone:${id.e164}`;
  }
}
