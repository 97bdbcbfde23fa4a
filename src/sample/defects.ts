// Known defects, injected into copies of clean rows (so no valid row ever depends on a defective one). Each kind is
// applicable to a column when the contract gives the rule it breaks; the truth codes are then computed by
// recordReasons(), the validator's own semantics, so they are exactly what Bronze must emit.
import type { ColumnDef, TableContract } from '../../schemas/contract.ts';
import type { Rng } from './prng.ts';

export type DefectKind = 'REQUIRED' | 'TYPE' | 'TOO_LONG' | 'ENUM' | 'RANGE' | 'FORMAT';

export interface DefectOption {
  column: number;
  kind: DefectKind;
}

/** Every (column, kind) a contract allows, in column order. */
export function defectOptions(contract: TableContract): DefectOption[] {
  const out: DefectOption[] = [];
  contract.columns.forEach((col, column) => {
    if (col.required) out.push({ column, kind: 'REQUIRED' });
    if (col.type.kind !== 'varchar' && col.type.kind !== 'text') out.push({ column, kind: 'TYPE' });
    if (col.type.kind === 'varchar') out.push({ column, kind: 'TOO_LONG' });
    if (col.enum) out.push({ column, kind: 'ENUM' });
    if (col.min !== undefined || col.max !== undefined) out.push({ column, kind: 'RANGE' });
    if (col.format) out.push({ column, kind: 'FORMAT' });
  });
  return out;
}

const BAD_TYPES: Record<string, readonly string[]> = {
  integer: ['abc', 'N/A', '12x', 'twelve', '1,5'],
  decimal: ['abc', '1.2.3', '$12.00', 'N/A'],
  date: ['2026-13-45', '31/12/2025', '2026-02-30', 'not a date', '20260101'],
  timestamp: ['2026-13-45 10:00:00', '2026-02-30 25:61:00', 'yesterday', '10/31/2026 10:00', '2026-06-31T08:00:00'],
  boolean: ['maybe', 'unknown', 'y/n', 'perhaps'],
};

const BAD_FORMATS: Record<string, (v: string, rng: Rng) => string> = {
  email: (v, rng) => {
    const local = v.includes('@') ? v.slice(0, v.indexOf('@')) : 'jane.doe';
    return rng.pick([`${local}@`, `${local} at gmail.com`, `${local}@@gmail.com`, `${local}@gmail`, `${local.replace('.', ' ')}@mail.com`]);
  },
  phone: (_v, rng) => rng.pick(['12-34', 'call me', 'ask at desk', '555-CALL-NOW', '+1 (555)', 'x123']),
  country_code: (v, rng) => rng.pick([v.toLowerCase() || 'us', 'U5', 'United States', '1']),
  state_code: (v, rng) => rng.pick([v.toLowerCase() || 'ca', 'Calif', '9X', 'N.Y.']),
  postal_code: (_v, rng) => rng.pick(['!', '1', '##-###', '  -  x']),
  currency_code: (v, rng) => rng.pick([v.toLowerCase() || 'usd', 'US$', 'EURO', '$']),
  url: (v, rng) => rng.pick([v.replace(/^https?:\/\//, 'www.') || 'www.example.com', 'htp:/broken', 'shop example com/p/1', '/relative/path']),
  json_array: (v, rng) => rng.pick([v.endsWith(']') ? v.slice(0, -1) : '["a", "b"', '{"interest": "sports"}', 'sports, music', "['single quotes']", 'null']),
};

function decimalText(n: number, col: ColumnDef): string {
  return col.type.kind === 'decimal' ? n.toFixed(col.type.scale) : String(Math.trunc(n));
}

/** The defective text value of one column. */
export function mutate(col: ColumnDef, kind: DefectKind, value: string | null, rng: Rng): string | null {
  switch (kind) {
    case 'REQUIRED':
      return rng.pick([null, '', '   ']);
    case 'TYPE':
      if (col.type.kind === 'decimal' && rng.chance(0.4)) {
        // More integer digits than DECIMAL(p,s) holds.
        return `${'9'.repeat(col.type.precision - col.type.scale + 1)}.${'0'.repeat(col.type.scale)}`;
      }
      return rng.pick(BAD_TYPES[col.type.kind]!);
    case 'TOO_LONG': {
      const max = col.type.kind === 'varchar' ? col.type.length : 0;
      const base = value && value.trim() !== '' ? value.trim() : 'X';
      let out = base;
      while (out.length <= max) out += base.length > 1 ? ` ${base}` : 'X';
      // Cut to just over the limit; never end on a blank (the validator trims before measuring).
      out = out.slice(0, max + 1 + rng.int(0, 9)).trimEnd();
      while (out.length <= max) out += 'X';
      return out;
    }
    case 'ENUM':
      return rng.pick(['UNKNOWN', 'N/A', 'OTHER_VALUE', `${col.enum?.[0] ?? 'X'}_OLD`, 'TBD', '??']);
    case 'RANGE': {
      if (col.max !== undefined && (col.min === undefined || rng.chance(0.5))) {
        const over = col.max + (col.type.kind === 'decimal' && col.type.precision - col.type.scale <= 1 ? rng.pick([0.25, 0.5, 0.75]) : rng.int(1, 20));
        return decimalText(over, col);
      }
      const under = (col.min ?? 0) - (col.type.kind === 'decimal' && col.type.precision - col.type.scale <= 1 ? rng.pick([0.25, 0.5]) : rng.int(1, 50));
      return decimalText(under, col);
    }
    case 'FORMAT':
      return BAD_FORMATS[col.format!]!(value?.trim() ?? '', rng);
  }
}
