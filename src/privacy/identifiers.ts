// Who a privacy request is about, and how identifiers are written where no PII may be (receipts, the suppression
// list, the Snowflake DELETE plan): a SHA-256 of kind and normalised value, so the same identifier always gives the
// same hash (a later drop carrying it can be recognised) and Snowflake can compute it too (SHA2).
import { createHash } from 'node:crypto';
import { UsageError } from '../runtime/errors.ts';

export type SubjectKind = 'c360' | 'source' | 'email' | 'phone';

export interface Subject {
  kind: SubjectKind;
  /** c360: CUSTOMER360_ID; source: SYSTEM/ID; email: lower-cased; phone: digits only. */
  value: string;
}

/** Kinds of identifier values an erasure matches rows by (values stored lower-cased). */
export type ValueKind = 'c360' | 'customer' | 'email' | 'phone' | 'transaction' | 'session' | 'ticket' | 'anonymous' | 'hash';

export const normEmail = (s: string) => s.trim().toLowerCase();
export const phoneDigits = (s: string) => s.replace(/\D/g, '');

/** Parses `c360:ID`, `source:SYSTEM/ID`, `email:ADDRESS`, `phone:NUMBER`. */
export function parseSubject(spec: string): Subject {
  const m = /^(c360|source|email|phone):(.+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`'${spec}' is not a subject: use c360:<CUSTOMER360_ID>, source:<SYSTEM>/<CUSTOMER_ID>, email:<address> or phone:<number>`);
  const kind = m[1] as SubjectKind;
  const raw = m[2]!.trim();
  if (kind === 'email') {
    if (!/^[^@\s]+@[^@\s]+$/.test(raw)) throw new UsageError(`'${spec}': not an e-mail address`);
    return { kind, value: normEmail(raw) };
  }
  if (kind === 'phone') {
    const d = phoneDigits(raw);
    if (d.length < 7 || d.length > 15) throw new UsageError(`'${spec}': a phone number has 7 to 15 digits`);
    return { kind, value: d };
  }
  if (kind === 'source') {
    const slash = raw.indexOf('/');
    if (slash <= 0 || slash === raw.length - 1) throw new UsageError(`'${spec}': use source:<SYSTEM>/<CUSTOMER_ID>`);
  }
  return { kind, value: raw };
}

/** Parses a batch file: one subject per line (optionally `subject<TAB or ,>reason`); blank lines and # comments skipped. */
export function parseBatch(text: string, file: string): Array<{ subject: Subject; reason?: string }> {
  const out: Array<{ subject: Subject; reason?: string }> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (!l || l.startsWith('#')) return;
    const cut = l.search(/[\t,]/);
    const spec = cut < 0 ? l : l.slice(0, cut);
    const rest = cut < 0 ? [] : [l.slice(cut + 1)];
    try {
      out.push({ subject: parseSubject(spec), ...(rest.length && rest[0]!.trim() ? { reason: rest[0]!.trim() } : {}) });
    } catch (e) {
      throw new UsageError(`${file}:${i + 1}: ${(e as Error).message}`);
    }
  });
  if (out.length === 0) throw new UsageError(`${file} holds no subject`);
  return out;
}

/** The PII-free form of an identifier: sha256 hex of '<kind>:<value>' (value lower-cased). */
export function hashIdentifier(kind: string, value: string): string {
  return createHash('sha256').update(`${kind}:${value.toLowerCase()}`).digest('hex');
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
