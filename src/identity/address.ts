// Street addresses for matching: folded to lower-case ASCII, street types and directions abbreviated, the unit
// designator (apt, suite, flat, #, unit) split off into its own field. Runs in TypeScript over distinct values.
import { ADDRESS_ABBREVIATIONS } from './address-abbreviations.ts';

const ABBR = new Map(ADDRESS_ABBREVIATIONS);
const UNIT_WORDS = new Set(['unit', 'apt', 'apartment', 'suite', 'ste', 'flat']);

export interface AddressStd {
  /** Standardised street address without the unit, or null when nothing is left. */
  street: string | null;
  unit: string | null;
}

export function standardiseAddress(raw: string | null | undefined): AddressStd {
  if (!raw) return { street: null, unit: null };
  const folded = raw
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/#\s*/g, ' unit ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  if (!folded) return { street: null, unit: null };
  const words = folded.split(' ');
  const out: string[] = [];
  let unit: string | null = null;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (UNIT_WORDS.has(w) && i + 1 < words.length && /\d/.test(words[i + 1]!)) {
      unit = words[++i]!;
      continue;
    }
    out.push(ABBR.get(w) ?? w);
  }
  return { street: out.length ? out.join(' ') : null, unit };
}
