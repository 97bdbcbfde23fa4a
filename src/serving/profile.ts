// One person's profile as the API answers it: the snapshot's row under the warehouse column names, the identifiers
// as a list, the recommendations with their reasons, the models behind the scores, and (asked for) the match links.
// Fields are chosen (fields=) before anything is read that is not needed; analysts get PII masked.
import { maskValue } from '../privacy/masking.ts';
import type { Role } from './auth.ts';
import { FIELD_NAMES, LIST_FIELDS, PII_OF, type ListField } from './fields.ts';
import { ApiError, type ProfileId } from './identifiers.ts';
import type { Snapshot } from './snapshot.ts';

type Row = Record<string, unknown>;

/** Always in a profile, whatever fields= says. */
const ALWAYS = ['CUSTOMER360_ID', 'AS_OF_DATE'];

/** Parses fields= into the set of fields to return (undefined: all). */
export function parseFields(raw: string | undefined, includeLinks: boolean): Set<string> | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ApiError(400, 'bad_fields', 'fields= is empty: name one or more fields, comma-separated');
  for (const n of names) {
    if (!FIELD_NAMES.has(n)) {
      const close = [...FIELD_NAMES].find((f) => f.toLowerCase() === n.toLowerCase());
      throw new ApiError(400, 'unknown_field', `Unknown field '${n.slice(0, 60)}'${close ? ` (did you mean ${close}?)` : ''}: see /openapi.json for the profile's fields`);
    }
  }
  if (names.includes('LINKS') && !includeLinks) throw new ApiError(400, 'bad_fields', 'The LINKS field needs include=links');
  return new Set([...ALWAYS, ...names, ...(includeLinks ? ['LINKS'] : [])]);
}

export type Resolved = { kind: 'found'; id: string } | { kind: 'redirect'; id: string; retired: string; reason: string | null } | { kind: 'missing' };

/** The person an id names in this snapshot. */
export async function resolveId(s: Snapshot, pid: ProfileId): Promise<Resolved> {
  let ids: string[];
  switch (pid.type) {
    case 'c360': {
      if (await s.has(pid.id)) return { kind: 'found', id: pid.id };
      const r = s.survivorOf(pid.id);
      return r ? { kind: 'redirect', id: r.CUSTOMER360_ID, retired: pid.id, reason: r.REASON } : { kind: 'missing' };
    }
    case 'source': ids = await s.idsBySource(pid.sourceSystem, pid.customerId); break;
    case 'email': ids = await s.idsByEmail(pid.email); break;
    case 'phone': ids = await s.idsByPhone(pid.e164); break;
  }
  if (ids.length === 0) return { kind: 'missing' };
  if (ids.length > 1) {
    throw new ApiError(409, 'ambiguous', `${ids.length} people have this ${pid.type}; ask for one by c360 id`, { candidates: ids.slice(0, 20) });
  }
  return { kind: 'found', id: ids[0]! };
}

const want = (fields: Set<string> | undefined, f: string) => !fields || fields.has(f);

/**
 * The profile of a person known to the snapshot as the caller may see it. An agent asking for everything gets the
 * snapshot's ready body as it is (bytes, no parse); anything else is the parsed profile cut to fields=, masked for an
 * analyst, with the match links added when asked.
 */
export async function buildProfile(
  s: Snapshot,
  id: string,
  o: { fields?: Set<string>; role: Role; includeLinks: boolean; ledger?: LedgerReader },
): Promise<Row | Buffer> {
  if (!o.fields && !o.includeLinks && o.role === 'agent') {
    const body = await s.body(id);
    if (body) return body;
  }
  const full = await s.profile(id);
  if (!full) throw new ApiError(404, 'not_found', `No customer ${id} in the snapshot of ${s.asOf}`);
  const out: Row = {};
  for (const [k, v] of Object.entries(full)) {
    if (!want(o.fields, k)) continue;
    out[k] = o.role === 'agent' ? v : maskValue(PII_OF.get(k), v);
  }
  if (o.includeLinks) out.LINKS = await links(s, id, o.ledger);
  return out;
}

/** The match ledger's rows for a person's records, as a relation the snapshot's DuckDB can read (null: no ledger). */
export type LedgerReader = () => Promise<string | null>;

/** Match decisions that involve any of the person's records, strongest first. */
export async function links(s: Snapshot, id: string, ledger?: LedgerReader): Promise<Row[]> {
  const relation = ledger ? await ledger() : null;
  if (!relation) return [];
  const records = await s.records(id);
  if (records.length === 0) return [];
  const lit = (v: string) => `'${v.replaceAll("'", "''")}'`;
  const keys = records.map((r) => `(${lit(r.SOURCE_SYSTEM)}, ${lit(r.CUSTOMER_ID)})`).join(', ');
  return s.query(
    `WITH k(s, c) AS (VALUES ${keys})
     SELECT * EXCLUDE ("TENANT_ID") FROM ${relation}
     WHERE EXISTS (SELECT 1 FROM k WHERE (k.s = "SOURCE_SYSTEM_L" AND k.c = "CUSTOMER_ID_L") OR (k.s = "SOURCE_SYSTEM_R" AND k.c = "CUSTOMER_ID_R"))
     ORDER BY "MATCH_PROBABILITY" DESC NULLS LAST, "SOURCE_SYSTEM_L", "CUSTOMER_ID_L", "SOURCE_SYSTEM_R", "CUSTOMER_ID_R"`,
    [],
    false,
  );
}

export { LIST_FIELDS, type ListField };
