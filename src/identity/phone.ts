// Phone numbers to E.164 with libphonenumber-js; the default region comes from the record's country.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { PLACEHOLDER_PHONE_DIGITS } from './blocklist.ts';

// Alpha-3 codes seen in the sources, mapped to the alpha-2 regions libphonenumber expects.
const ALPHA3: Record<string, string> = {
  USA: 'US', GBR: 'GB', CAN: 'CA', AUS: 'AU', DEU: 'DE', FRA: 'FR', ESP: 'ES', ITA: 'IT', NLD: 'NL', BEL: 'BE',
  IRL: 'IE', NZL: 'NZ', MEX: 'MX', BRA: 'BR', IND: 'IN', JPN: 'JP', CHN: 'CN', SWE: 'SE', NOR: 'NO', DNK: 'DK',
  FIN: 'FI', CHE: 'CH', AUT: 'AT', POL: 'PL', PRT: 'PT', ZAF: 'ZA', SGP: 'SG', KOR: 'KR', ARG: 'AR', UK: 'GB',
};

export const DEFAULT_REGION = 'US';

/** ISO alpha-2 region for a country code (alpha-2 or alpha-3, any case); the default region when unknown. */
export function regionOf(country: string | null | undefined, fallback = DEFAULT_REGION): string {
  const c = (country ?? '').trim().toUpperCase();
  if (c.length === 2) return c === 'UK' ? 'GB' : c;
  return ALPHA3[c] ?? fallback;
}

export interface PhoneResult {
  /** +CCNNNN... when the number is a possible number for its region, else null. */
  e164: string | null;
  /** Passes libphonenumber's full validity check (real number ranges). */
  valid: boolean;
  placeholder: boolean;
}

/** Digits of a placeholder number (555-555-5555, 123-456-7890, one repeated digit); too short is not one. */
export function isPlaceholderPhone(digits: string): boolean {
  if (digits.length < 7) return false;
  if (/^(\d)\1+$/.test(digits)) return true;
  return PLACEHOLDER_PHONE_DIGITS.some((p) => digits.endsWith(p));
}

/** Standardises one phone number; unparseable or placeholder values give e164 = null (never an exception). */
export function toE164(raw: string | null | undefined, country?: string | null): PhoneResult {
  const text = (raw ?? '').trim();
  if (!text) return { e164: null, valid: false, placeholder: false };
  const digits = text.replace(/\D/g, '');
  if (isPlaceholderPhone(digits)) return { e164: null, valid: false, placeholder: true };
  let parsed;
  try {
    parsed = parsePhoneNumberFromString(text, regionOf(country) as CountryCode);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !parsed.isPossible()) return { e164: null, valid: false, placeholder: false };
  const national = String(parsed.nationalNumber);
  if (isPlaceholderPhone(national)) return { e164: null, valid: false, placeholder: true };
  return { e164: parsed.number, valid: parsed.isValid(), placeholder: false };
}
