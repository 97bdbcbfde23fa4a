// The audience filter language: a small SQL-like boolean expression over the audience columns (profile, scores,
// segments, consent), parsed here so that it is checked against the declared columns before any data is read, errors
// carry the offset of the offending token, and the SQL it renders quotes every identifier and literal (a filter can
// never inject SQL).
//
//   expr  := or;  or := and (OR and)*;  and := not (AND not)*;  not := NOT not | cmp
//   cmp   := value [ (= | != | <> | < | <= | > | >=) value | IS [NOT] NULL | [NOT] IN (value, ...)
//                  | [NOT] BETWEEN value AND value | [NOT] LIKE 'text' ]
//   value := number | 'text' | TRUE | FALSE | DATE 'YYYY-MM-DD' | COLUMN | decile(COLUMN) | percentile(COLUMN) | ( expr )
//
// decile(C) is 1..10 over the people with a value of C (10 = the top tenth), percentile(C) 0..100.
import { ident, lit } from '../engine/duckdb.ts';

export type ValueKind = 'number' | 'text' | 'boolean' | 'date' | 'null';

export class FilterError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'FilterError';
  }
}

type Tok = { t: 'num' | 'str' | 'id' | 'op' | 'end'; v: string; at: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'IN', 'BETWEEN', 'LIKE', 'TRUE', 'FALSE', 'DATE']);
export const RANK_FUNCTIONS = { DECILE: 'decile', PERCENTILE: 'percentile' } as const;

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const at = i;
    if (/[0-9]/.test(c) || (c === '-' && /[0-9.]/.test(src[i + 1] ?? '') && !/(num|str|id)/.test(out.at(-1)?.t ?? '')) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0], at });
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? '')) throw new FilterError(`unexpected '${src[i]}' after the number ${m[0]}`, i);
    } else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new FilterError('unterminated text: a quote opened here is never closed', at);
        if (src[i] === "'") {
          if (src[i + 1] === "'") { v += "'"; i += 2; continue; }
          i++;
          break;
        }
        v += src[i++];
      }
      out.push({ t: 'str', v, at });
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0], at });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (['<=', '>=', '<>', '!='].includes(two)) { out.push({ t: 'op', v: two, at }); i += 2; }
      else if ('=<>(),'.includes(c)) { out.push({ t: 'op', v: c, at }); i++; }
      else if (c === '"') throw new FilterError('double quotes are not used: write text in single quotes and column names bare', at);
      else throw new FilterError(`unexpected character '${c}'`, at);
    }
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

/** A parsed filter: the SQL it renders to, the columns it reads and the rank columns it needs computed first. */
export interface CompiledFilter {
  sql: string;
  columns: string[];
  /** Derived rank columns: name -> { fn, column }; the evaluator computes them over the whole population. */
  ranks: Record<string, { fn: 'decile' | 'percentile'; column: string }>;
}

export function rankColumnName(fn: string, column: string): string {
  return `_${fn}_${column}`;
}

type Node = { sql: string; kind: ValueKind; at: number };

/**
 * Compiles a filter against the available columns (name -> kind). Errors are FilterErrors at the offending offset.
 */
export function compileFilter(src: string, available: ReadonlyMap<string, ValueKind>): CompiledFilter {
  const toks = tokenize(src);
  let p = 0;
  const columns = new Set<string>();
  const ranks: CompiledFilter['ranks'] = {};
  const peek = () => toks[p]!;
  const kw = (w: string) => peek().t === 'id' && peek().v.toUpperCase() === w;
  const op = (o: string) => peek().t === 'op' && peek().v === o;
  const describe = (t: Tok) => (t.t === 'end' ? 'the end of the filter' : `'${t.t === 'str' ? `'${t.v}'` : t.v}'`);
  const expect = (o: string, what: string) => {
    if (!op(o)) throw new FilterError(`expected ${what}, found ${describe(peek())}`, peek().at);
    p++;
  };
  const predicate = (n: Node): Node => {
    if (n.kind !== 'boolean') throw new FilterError(`this is a ${n.kind} value, not a condition: compare it (e.g. '> 0.7') or use a TRUE/FALSE column`, n.at);
    return n;
  };
  const comparable = (a: Node, b: Node, at: number) => {
    if (a.kind === 'null' || b.kind === 'null') throw new FilterError("use 'IS NULL' / 'IS NOT NULL' to test for a missing value", at);
    if (a.kind !== b.kind) throw new FilterError(`cannot compare a ${a.kind} with a ${b.kind}`, at);
  };

  function value(): Node {
    const t = peek();
    if (op('(')) {
      p++;
      const inner = or();
      expect(')', "')'");
      return { sql: `(${inner.sql})`, kind: inner.kind, at: t.at };
    }
    if (t.t === 'num') { p++; return { sql: t.v, kind: 'number', at: t.at }; }
    if (t.t === 'str') { p++; return { sql: lit(t.v), kind: 'text', at: t.at }; }
    if (t.t !== 'id') throw new FilterError(`expected a column, a value or '(', found ${describe(t)}`, t.at);
    const up = t.v.toUpperCase();
    if (up === 'TRUE' || up === 'FALSE') { p++; return { sql: up, kind: 'boolean', at: t.at }; }
    if (up === 'NULL') { p++; return { sql: 'NULL', kind: 'null', at: t.at }; }
    if (up === 'DATE') {
      p++;
      const d = peek();
      if (d.t !== 'str' || !/^\d{4}-\d{2}-\d{2}$/.test(d.v) || Number.isNaN(Date.parse(`${d.v}T00:00:00Z`))) throw new FilterError("DATE takes a date in quotes: DATE '2026-01-31'", d.at);
      p++;
      return { sql: `DATE ${lit(d.v)}`, kind: 'date', at: t.at };
    }
    if (up in RANK_FUNCTIONS && toks[p + 1]?.t === 'op' && toks[p + 1]!.v === '(') {
      const fn = RANK_FUNCTIONS[up as keyof typeof RANK_FUNCTIONS];
      p += 2;
      const c = peek();
      const col = c.t === 'id' ? resolveColumn(c) : undefined;
      if (!col || available.get(col) !== 'number') throw new FilterError(`${fn}() takes a numeric column, found ${describe(c)}`, c.at);
      p++;
      expect(')', `')' after ${fn}(${col}`);
      columns.add(col);
      const name = rankColumnName(fn, col);
      ranks[name] = { fn, column: col };
      return { sql: ident(name), kind: 'number', at: t.at };
    }
    if (KEYWORDS.has(up)) throw new FilterError(`expected a column or a value, found the keyword ${up}`, t.at);
    const col = resolveColumn(t);
    p++;
    columns.add(col);
    return { sql: ident(col), kind: available.get(col)!, at: t.at };
  }

  function resolveColumn(t: Tok): string {
    const name = t.v.toUpperCase();
    if (available.has(name)) return name;
    const near = closest(name, [...available.keys()]);
    throw new FilterError(`unknown column ${t.v}${near ? ` (did you mean ${near}?)` : ''}`, t.at);
  }

  function cmp(): Node {
    const left = value();
    const t = peek();
    if (t.t === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(t.v)) {
      p++;
      const right = value();
      comparable(left, right, t.at);
      return { sql: `${left.sql} ${t.v === '!=' ? '<>' : t.v} ${right.sql}`, kind: 'boolean', at: left.at };
    }
    if (kw('IS')) {
      p++;
      const not = kw('NOT') ? (p++, true) : false;
      if (!kw('NULL')) throw new FilterError(`expected NULL after IS${not ? ' NOT' : ''}, found ${describe(peek())}`, peek().at);
      p++;
      return { sql: `${left.sql} IS ${not ? 'NOT ' : ''}NULL`, kind: 'boolean', at: left.at };
    }
    const not = kw('NOT') && toks[p + 1]?.t === 'id' && ['IN', 'BETWEEN', 'LIKE'].includes(toks[p + 1]!.v.toUpperCase());
    if (not) p++;
    if (kw('IN')) {
      p++;
      expect('(', "'(' after IN");
      const items: string[] = [];
      do {
        const v = value();
        comparable(left, v, v.at);
        items.push(v.sql);
      } while (op(',') && ++p);
      expect(')', "',' or ')' in the IN list");
      return { sql: `${left.sql} ${not ? 'NOT ' : ''}IN (${items.join(', ')})`, kind: 'boolean', at: left.at };
    }
    if (kw('BETWEEN')) {
      p++;
      const lo = value();
      comparable(left, lo, lo.at);
      if (!kw('AND')) throw new FilterError(`expected AND in BETWEEN, found ${describe(peek())}`, peek().at);
      p++;
      const hi = value();
      comparable(left, hi, hi.at);
      return { sql: `${left.sql} ${not ? 'NOT ' : ''}BETWEEN ${lo.sql} AND ${hi.sql}`, kind: 'boolean', at: left.at };
    }
    if (kw('LIKE')) {
      p++;
      const pat = peek();
      if (pat.t !== 'str') throw new FilterError("LIKE takes a pattern in quotes, e.g. LIKE 'Champ%'", pat.at);
      if (left.kind !== 'text') throw new FilterError(`LIKE compares text, and this is a ${left.kind}`, t.at);
      p++;
      return { sql: `${left.sql} ${not ? 'NOT ' : ''}LIKE ${lit(pat.v)}`, kind: 'boolean', at: left.at };
    }
    return left;
  }

  function notExpr(): Node {
    if (kw('NOT')) {
      const at = peek().at;
      p++;
      return { sql: `NOT (${predicate(notExpr()).sql})`, kind: 'boolean', at };
    }
    return cmp();
  }
  function and(): Node {
    let left = notExpr();
    while (kw('AND')) {
      predicate(left);
      p++;
      const right = predicate(notExpr());
      left = { sql: `${left.sql} AND ${right.sql}`, kind: 'boolean', at: left.at };
    }
    return left;
  }
  function or(): Node {
    let left = and();
    while (kw('OR')) {
      predicate(left);
      p++;
      const right = predicate(and());
      left = { sql: `(${left.sql}) OR (${right.sql})`, kind: 'boolean', at: left.at };
    }
    return left;
  }

  if (peek().t === 'end') throw new FilterError('the filter is empty', 0);
  const root = predicate(or());
  if (peek().t !== 'end') throw new FilterError(`unexpected ${describe(peek())}: expected AND, OR or the end of the filter`, peek().at);
  // A NULL comparison is unknown, which is not membership: COALESCE makes that explicit.
  return { sql: `COALESCE(${root.sql}, FALSE)`, columns: [...columns].sort(), ranks };
}

/** The known name closest to `name` by edit distance, when it is close enough to be a likely typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toUpperCase(), k.toUpperCase());
    if (d < bestD) { bestD = d; best = k; }
  }
  return best && bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
