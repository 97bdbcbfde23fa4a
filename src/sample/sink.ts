// Streams one table's rows into a DuckDB appender as canonical text, derived from the contract columns, and injects
// the table's defects after clean rows at the configured rate, recording each in the defect truth.
import type { ColumnDef, TableContract } from '../../schemas/contract.ts';
import { recordReasons } from './contract-check.ts';
import { defectOptions, mutate, type DefectOption } from './defects.ts';
import { Rng } from './prng.ts';
import { formatDate, formatTimestamp } from './time.ts';
import type { TextRow } from './csv-spool.ts';

export type { TextRow };

/** A field value as the behaviour code produces it: dates and timestamps as epoch seconds, booleans as booleans. */
export type Value = string | number | boolean | null | undefined;
export type Record_ = Partial<Record<string, Value>>;

/** Share of defects that are exact duplicate rows (the rest break a contract rule). */
const DUPLICATE_SHARE = 0.15;
/** Share of rule-breaking defect rows with two broken columns (validators must collect every problem). */
const DOUBLE_DEFECT_SHARE = 0.15;

export function formatValue(col: ColumnDef, v: Value): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  switch (col.type.kind) {
    case 'integer':
      return String(Math.round(v));
    case 'decimal':
      return v.toFixed(col.type.scale);
    case 'date':
      return formatDate(v);
    case 'timestamp':
      return formatTimestamp(v);
    default:
      return String(v);
  }
}

export interface DefectTruth {
  table: string;
  rowNumber: number;
  primaryKey: string | null;
  reasons: string[];
  duplicateOfRow: number | null;
}

export interface SinkOptions {
  defectRate: number;
  seed: number;
  /** Prefix of generated primary keys, e.g. TXN. */
  idPrefix: string;
  idDigits: number;
  onDefect: (truth: DefectTruth) => void;
  /** Fresh base row for a rule-breaking defect; default: the clean row with a new primary key. */
  defectBase?: (clean: TextRow, extra: TextRow) => { row: TextRow; extra: TextRow };
}

export class TableSink {
  readonly columns: readonly ColumnDef[];
  rows = 0;
  defects = 0;
  private readonly pk: number;
  private readonly options: DefectOption[];
  private readonly rng: Rng;
  private readonly defectOdds: number;
  private nextSeq = 0;
  private checked = 0;
  private credit: number;
  private threshold: number;
  private lastRow: TextRow | null = null;
  private lastExtra: TextRow = [];
  private lastRowNumber = 0;

  constructor(
    readonly contract: TableContract,
    private readonly out: { write(row: TextRow): void },
    private readonly opts: SinkOptions,
  ) {
    this.columns = contract.columns;
    this.pk = contract.columns.findIndex((c) => c.name === contract.primaryKey[0]);
    this.options = defectOptions(contract);
    this.rng = new Rng(opts.seed);
    // Defects are extra rows, so the defect share of the file is rate: odds per clean row = r / (1 - r).
    this.defectOdds = opts.defectRate >= 1 ? 1e9 : opts.defectRate / (1 - opts.defectRate);
    this.credit = this.rng.next() * 0.5;
    this.threshold = this.rng.uniform(0.5, 1.5);
  }

  /** A new primary key value for this table. */
  nextId(): string {
    return this.opts.idPrefix + String(++this.nextSeq).padStart(this.opts.idDigits, '0');
  }

  /** Appends a clean record (fields keyed by contract column name) and maybe a defect after it; returns its row number. */
  add(record: Record_, extra: TextRow = []): number {
    if (this.checked < 50) this.checkFields(record);
    const row = this.columns.map((c) => formatValue(c, record[c.name]));
    const rowNumber = this.append(row, extra);
    this.lastRow = row;
    this.lastExtra = extra;
    this.lastRowNumber = rowNumber;
    // Jittered systematic sampling: the defect count tracks the rate closely even for small tables.
    this.credit += this.defectOdds;
    while (this.defectOdds > 0 && this.credit >= this.threshold) {
      this.addDefect(row, extra, rowNumber);
      this.credit -= this.threshold;
      this.threshold = this.rng.uniform(0.5, 1.5);
    }
    return rowNumber;
  }

  /** Ends the table: a table with rows and a non-zero rate gets at least one defect, however small it is. */
  finish(): void {
    if (this.defects === 0 && this.defectOdds > 0 && this.lastRow) this.addDefect(this.lastRow, this.lastExtra, this.lastRowNumber, false);
  }

  private checkFields(record: Record_): void {
    this.checked++;
    for (const key of Object.keys(record)) {
      if (!this.columns.some((c) => c.name === key)) throw new Error(`sample generator: ${this.contract.name} has no column ${key}`);
    }
  }

  private append(row: TextRow, extra: TextRow): number {
    this.out.write(extra.length > 0 ? row.concat(extra) : row);
    return ++this.rows;
  }

  private addDefect(clean: TextRow, extra: TextRow, cleanRow: number, allowDuplicate = true): void {
    const rng = this.rng;
    if (allowDuplicate && rng.chance(DUPLICATE_SHARE)) {
      const rowNumber = this.append(clean, extra);
      this.defects++;
      this.opts.onDefect({ table: this.contract.name, rowNumber, primaryKey: clean[this.pk] ?? null, reasons: [], duplicateOfRow: cleanRow });
      return;
    }
    const base = this.opts.defectBase ? this.opts.defectBase(clean, extra) : { row: [...clean], extra };
    if (!this.opts.defectBase) base.row[this.pk] = this.nextId();
    const row = base.row;
    const wanted = rng.chance(DOUBLE_DEFECT_SHARE) ? 2 : 1;
    let reasons: string[] = [];
    const used = new Set<number>();
    // A mutation can happen to leave the value valid (e.g. a random enum typo that is a real value): try another.
    for (let attempt = 0; attempt < 20 && used.size < wanted; attempt++) {
      const option = rng.pick(this.options);
      if (used.has(option.column)) continue;
      const col = this.columns[option.column]!;
      const before = row[option.column]!;
      row[option.column] = mutate(col, option.kind, before, rng);
      const now = recordReasons(this.contract, row);
      if (now.length > reasons.length) {
        reasons = now;
        used.add(option.column);
      } else {
        row[option.column] = before;
      }
    }
    if (reasons.length === 0) throw new Error(`sample generator: could not inject a defect into ${this.contract.name}`);
    const rowNumber = this.append(row, base.extra);
    this.defects++;
    this.opts.onDefect({ table: this.contract.name, rowNumber, primaryKey: row[this.pk] ?? null, reasons, duplicateOfRow: null });
  }
}
