// The Bronze validation semantics, as a pure function over a text record: the generator uses it to write the exact
// reason codes of every injected defect into the truth (so the truth is what the validator must emit).
// Values are trimmed, empty means null; a TYPE failure suppresses RANGE on that column.
import { FORMAT_PATTERNS, type ColumnDef, type TableContract } from '../../schemas/contract.ts';

const INTEGER_RE = /^[+-]?\d+$/;
const DECIMAL_RE = /^[+-]?(\d*)(?:\.(\d*))?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
const FORMAT_RES = Object.fromEntries(Object.entries(FORMAT_PATTERNS).map(([k, p]) => [k, new RegExp(p)])) as Record<string, RegExp>;

function validDay(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Numeric value of v if it converts to the column type, undefined when it does not (a TYPE failure). */
function convert(col: ColumnDef, v: string): number | true | undefined {
  const t = col.type;
  switch (t.kind) {
    case 'integer': {
      if (!INTEGER_RE.test(v)) return undefined;
      const n = Number(v);
      return n >= -2147483648 && n <= 2147483647 ? n : undefined;
    }
    case 'decimal': {
      const m = DECIMAL_RE.exec(v);
      if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
      const intDigits = m[1]!.replace(/^0+/, '').length;
      return intDigits > t.precision - t.scale ? undefined : Number(v);
    }
    case 'date': {
      const m = DATE_RE.exec(v);
      return m && validDay(+m[1]!, +m[2]!, +m[3]!) ? true : undefined;
    }
    case 'timestamp': {
      const m = TIMESTAMP_RE.exec(v);
      if (!m || !validDay(+m[1]!, +m[2]!, +m[3]!)) return undefined;
      if (m[4] !== undefined && (+m[4] > 23 || +m[5]! > 59 || (m[6] !== undefined && +m[6] > 59))) return undefined;
      return true;
    }
    case 'boolean':
      return /^(true|false)$/i.test(v) ? true : undefined;
    default:
      return true;
  }
}

/** Reason codes (`COLUMN:CODE`) of one column value. */
export function columnReasons(col: ColumnDef, raw: string | null | undefined): string[] {
  const v = raw == null ? '' : raw.trim();
  if (v === '') return col.required ? [`${col.name}:REQUIRED`] : [];
  const out: string[] = [];
  const value = convert(col, v);
  if (value === undefined) out.push(`${col.name}:TYPE`);
  if (col.type.kind === 'varchar' && [...v].length > col.type.length) out.push(`${col.name}:TOO_LONG`);
  if (col.enum && !col.enum.some((e) => e.toUpperCase() === v.toUpperCase())) out.push(`${col.name}:ENUM`);
  if (typeof value === 'number' && ((col.min !== undefined && value < col.min) || (col.max !== undefined && value > col.max))) {
    out.push(`${col.name}:RANGE`);
  }
  if (col.format === 'json_array') {
    let ok = false;
    try {
      ok = Array.isArray(JSON.parse(v));
    } catch {
      ok = false;
    }
    if (!ok) out.push(`${col.name}:FORMAT`);
  } else if (col.format && !FORMAT_RES[col.format]!.test(v)) {
    out.push(`${col.name}:FORMAT`);
  }
  return out;
}

/** Reason codes of a record given as text values in contract column order. */
export function recordReasons(contract: TableContract, values: readonly (string | null)[]): string[] {
  const out: string[] = [];
  contract.columns.forEach((col, i) => {
    for (const r of columnReasons(col, values[i])) out.push(r);
  });
  return out;
}
