// The model's SQL expressions (comparison levels, deterministic rules, weights, link flags: model.ts, sql.ts,
// resolve.ts) evaluated in TypeScript, so a stream batch is scored without a DuckDB statement while the model keeps one
// definition. Only the subset those expressions use is understood, with SQL's three-valued logic (NULL compares to
// nothing; AND/OR/NOT over NULL as SQL does); anything else is an error at compile time, never a silent difference.
// test/identity-ts-path.test.ts holds the results equal to DuckDB's.
import { damerauLevenshtein, jaroWinkler } from './similarity.ts';

export type Val = string | number | boolean | null;

/** What an expression reads: a record's column (l./r.) or a column of the row being computed (unqualified). */
export interface EvalContext {
  l: readonly Val[];
  r: readonly Val[];
  /** The row's columns, at the slots the caller's column resolver chose. */
  row: Val[];
}

type Fn = (c: EvalContext) => Val;

export interface Compiled {
  fn: Fn;
  /** The `AS name` after the expression, if any. */
  alias?: string;
}

const KEYWORDS = new Set(['CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'AND', 'OR', 'NOT', 'IS', 'NULL', 'IN', 'TRUE', 'FALSE', 'DISTINCT', 'FROM', 'AS']);

type Tok = { k: 'num' | 'str' | 'id' | 'kw' | 'op'; v: string };

function tokenize(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const num = /^(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)/.exec(sql.slice(i));
    if (num) {
      out.push({ k: 'num', v: num[1]! });
      i += num[1]!.length;
      continue;
    }
    if (ch === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw new Error(`Unterminated string in: ${sql}`);
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += sql[i++];
      }
      out.push({ k: 'str', v: s });
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?/.exec(sql.slice(i));
    if (id) {
      const up = id[0].toUpperCase();
      out.push(KEYWORDS.has(up) ? { k: 'kw', v: up } : { k: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = /^(::|<>|!=|<=|>=|[=<>+\-*/(),])/.exec(sql.slice(i));
    if (!op) throw new Error(`Cannot evaluate SQL in TypeScript at '${sql.slice(i, i + 20)}' in: ${sql}`);
    out.push({ k: 'op', v: op[1]! });
    i += op[1]!.length;
  }
  return out;
}

const DAY = 86_400_000;
const dateDays = (v: Val): number | null => (typeof v === 'string' ? Math.round(Date.parse(`${v.slice(0, 10)}T00:00:00Z`) / DAY) : null);

/** SQL truth of a value: true, false or null (unknown). */
const truth = (v: Val): boolean | null => (v === null ? null : Boolean(v));

function compare(op: string, a: Val, b: Val): Val {
  if (a === null || b === null) return null;
  switch (op) {
    case '=':
      return a === b;
    case '<>':
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
  throw new Error(`operator ${op}`);
}

/** Successive levels compare the same two values at several thresholds: the last result is kept. */
let jwA = '';
let jwB = '';
let jwR = 0;
function jwMemo(a: string, b: string): number {
  if (a !== jwA || b !== jwB) {
    jwA = a;
    jwB = b;
    jwR = jaroWinkler(a, b);
  }
  return jwR;
}

const FUNCTIONS: Record<string, (args: Val[]) => Val> = {
  jaro_winkler_similarity: ([a, b]) => (a === null || b === null ? null : jwMemo(String(a), String(b))),
  damerau_levenshtein: ([a, b]) => (a === null || b === null ? null : damerauLevenshtein(String(a), String(b))),
  abs: ([a]) => (a === null ? null : Math.abs(Number(a))),
  log2: ([a]) => (a === null ? null : Math.log2(Number(a))),
  pow: ([a, b]) => (a === null || b === null ? null : Math.pow(Number(a), Number(b))),
  greatest: (args) => {
    const xs = args.filter((x) => x !== null) as number[];
    return xs.length ? xs.reduce((m, x) => (x > m ? x : m)) : null;
  },
  least: (args) => {
    const xs = args.filter((x) => x !== null) as number[];
    return xs.length ? xs.reduce((m, x) => (x < m ? x : m)) : null;
  },
  coalesce: (args) => args.find((x) => x !== null) ?? null,
  // ASCII text only reaches these (the TypeScript standardiser hands anything else to SQL), so code units are characters.
  right: ([s, n]) => (s === null || n === null ? null : Number(n) <= 0 ? '' : String(s).slice(-Number(n))),
  left: ([s, n]) => (s === null || n === null ? null : String(s).slice(0, Math.max(0, Number(n)))),
  split_part: ([s, sep, n]) => {
    if (s === null || sep === null || n === null) return null;
    const parts = String(s).split(String(sep));
    return parts[Number(n) - 1] ?? '';
  },
  date_diff: ([part, a, b]) => {
    if (part !== 'day') throw new Error(`date_diff('${String(part)}') is not supported in TypeScript`);
    const x = dateDays(a);
    const y = dateDays(b);
    return x === null || y === null ? null : y - x;
  },
};

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly source: string, private readonly column: (q: 'l' | 'r' | null, name: string) => Fn) {}

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private is(k: Tok['k'], v?: string): boolean {
    const t = this.peek();
    return !!t && t.k === k && (v === undefined || t.v === v);
  }
  private take(k: Tok['k'], v?: string): Tok {
    const t = this.peek();
    if (!t || t.k !== k || (v !== undefined && t.v !== v)) throw new Error(`Expected ${v ?? k} at token ${this.i} of: ${this.source}`);
    this.i++;
    return t;
  }
  private accept(k: Tok['k'], v?: string): boolean {
    if (this.is(k, v)) {
      this.i++;
      return true;
    }
    return false;
  }

  top(): Compiled {
    const [one, ...more] = this.list();
    if (more.length) throw new Error(`One expression expected: ${this.source}`);
    return one!;
  }

  /** expr [AS name] {, expr [AS name]}; a bare column is named after itself. */
  list(): Compiled[] {
    const out: Compiled[] = [];
    do {
      const start = this.peek();
      const fn = this.or();
      let alias: string | undefined;
      if (this.accept('kw', 'AS')) alias = this.take('id').v;
      else if (start?.k === 'id' && this.toks[this.i - 1] === start && !start.v.includes('.')) alias = start.v;
      out.push({ fn, alias });
    } while (this.accept('op', ','));
    if (this.i !== this.toks.length) throw new Error(`Unexpected '${this.peek()!.v}' in: ${this.source}`);
    return out;
  }

  or(): Fn {
    const parts = [this.and()];
    while (this.accept('kw', 'OR')) parts.push(this.and());
    if (parts.length === 1) return parts[0]!;
    return (c) => {
      let unknown = false;
      for (let i = 0; i < parts.length; i++) {
        const v = truth(parts[i]!(c));
        if (v === true) return true;
        if (v === null) unknown = true;
      }
      return unknown ? null : false;
    };
  }

  and(): Fn {
    const parts = [this.not()];
    while (this.accept('kw', 'AND')) parts.push(this.not());
    if (parts.length === 1) return parts[0]!;
    return (c) => {
      let unknown = false;
      for (let i = 0; i < parts.length; i++) {
        const v = truth(parts[i]!(c));
        if (v === false) return false;
        if (v === null) unknown = true;
      }
      return unknown ? null : true;
    };
  }

  not(): Fn {
    if (this.accept('kw', 'NOT')) {
      const inner = this.not();
      return (c) => {
        const v = truth(inner(c));
        return v === null ? null : !v;
      };
    }
    return this.comparison();
  }

  comparison(): Fn {
    const left = this.additive();
    const t = this.peek();
    if (t?.k === 'op' && ['=', '<>', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      this.i++;
      const right = this.additive();
      const op = t.v;
      if (op === '=') {
        return (c) => {
          const a = left(c);
          const b = right(c);
          return a === null || b === null ? null : a === b;
        };
      }
      return (c) => compare(op, left(c), right(c));
    }
    if (this.accept('kw', 'IS')) {
      const negate = this.accept('kw', 'NOT');
      if (this.accept('kw', 'NULL')) return (c) => (left(c) === null) !== negate;
      this.take('kw', 'DISTINCT');
      this.take('kw', 'FROM');
      const right = this.additive();
      return (c) => {
        const a = left(c);
        const b = right(c);
        return (a !== b) !== negate;
      };
    }
    const negate = this.is('kw', 'NOT') && this.toks[this.i + 1]?.v === 'IN' ? (this.i++, true) : false;
    if (this.accept('kw', 'IN')) {
      this.take('op', '(');
      const items = [this.or()];
      while (this.accept('op', ',')) items.push(this.or());
      this.take('op', ')');
      return (c) => {
        const a = left(c);
        if (a === null) return null;
        let unknown = false;
        for (const it of items) {
          const b = it(c);
          if (b === null) unknown = true;
          else if (a === b) return !negate;
        }
        return unknown ? null : negate;
      };
    }
    return left;
  }

  additive(): Fn {
    let left = this.multiplicative();
    for (;;) {
      if (this.accept('op', '+')) {
        const a = left;
        const b = this.multiplicative();
        left = (c) => {
          const x = a(c);
          const y = b(c);
          return x === null || y === null ? null : (x as number) + (y as number);
        };
      } else if (this.accept('op', '-')) {
        const a = left;
        const b = this.multiplicative();
        left = (c) => {
          const x = a(c);
          const y = b(c);
          return x === null || y === null ? null : (x as number) - (y as number);
        };
      } else return left;
    }
  }

  multiplicative(): Fn {
    let left = this.unary();
    for (;;) {
      if (this.accept('op', '*')) {
        const a = left;
        const b = this.unary();
        left = (c) => {
          const x = a(c);
          const y = b(c);
          return x === null || y === null ? null : (x as number) * (y as number);
        };
      } else if (this.accept('op', '/')) {
        const a = left;
        const b = this.unary();
        // DuckDB's / is floating-point division; by zero it gives NULL.
        left = (c) => {
          const x = a(c);
          const y = b(c);
          return x === null || y === null || y === 0 ? null : (x as number) / (y as number);
        };
      } else return left;
    }
  }

  unary(): Fn {
    if (this.accept('op', '-')) {
      const inner = this.unary();
      return (c) => {
        const v = inner(c);
        return v === null ? null : -(v as number);
      };
    }
    let fn = this.primary();
    while (this.accept('op', '::')) {
      const type = this.take('id').v.toUpperCase();
      if (!['DOUBLE', 'TINYINT', 'INTEGER', 'BIGINT', 'VARCHAR'].includes(type)) throw new Error(`Cast to ${type} is not supported in TypeScript: ${this.source}`);
      // The model's casts only fix the type of values that already are of it (levels to TINYINT, weights to DOUBLE).
      if (type === 'VARCHAR') {
        const inner = fn;
        fn = (c) => {
          const v = inner(c);
          return v === null ? null : String(v);
        };
      }
    }
    return fn;
  }

  primary(): Fn {
    const t = this.peek();
    if (!t) throw new Error(`Unexpected end of: ${this.source}`);
    if (t.k === 'num') {
      this.i++;
      const v = Number(t.v);
      return () => v;
    }
    if (t.k === 'str') {
      this.i++;
      return () => t.v;
    }
    if (this.accept('kw', 'NULL')) return () => null;
    if (this.accept('kw', 'TRUE')) return () => true;
    if (this.accept('kw', 'FALSE')) return () => false;
    if (this.accept('op', '(')) {
      const inner = this.or();
      this.take('op', ')');
      return inner;
    }
    if (this.accept('kw', 'CASE')) return this.caseExpr();
    if (t.k === 'id') {
      this.i++;
      if (this.accept('op', '(')) {
        const name = t.v.toLowerCase();
        const f = FUNCTIONS[name];
        if (!f) throw new Error(`Function ${t.v} is not supported in TypeScript: ${this.source}`);
        const args: Fn[] = [];
        if (!this.accept('op', ')')) {
          args.push(this.or());
          while (this.accept('op', ',')) args.push(this.or());
          this.take('op', ')');
        }
        if (args.length === 1) {
          const [a] = args as [Fn];
          return (c) => f([a(c)]);
        }
        if (args.length === 2) {
          const [a, b] = args as [Fn, Fn];
          return (c) => f([a(c), b(c)]);
        }
        return (c) => f(args.map((a) => a(c)));
      }
      const dot = t.v.indexOf('.');
      if (dot > 0) {
        const q = t.v.slice(0, dot);
        if (q !== 'l' && q !== 'r') throw new Error(`Unknown qualifier ${q} in: ${this.source}`);
        return this.column(q, t.v.slice(dot + 1));
      }
      return this.column(null, t.v);
    }
    throw new Error(`Unexpected '${t.v}' in: ${this.source}`);
  }

  caseExpr(): Fn {
    const subject = this.is('kw', 'WHEN') ? undefined : this.or();
    const whens: [Fn, Fn][] = [];
    while (this.accept('kw', 'WHEN')) {
      const w = this.or();
      this.take('kw', 'THEN');
      whens.push([w, this.or()]);
    }
    const otherwise = this.accept('kw', 'ELSE') ? this.or() : () => null;
    this.take('kw', 'END');
    const conds = whens.map((w) => w[0]);
    const thens = whens.map((w) => w[1]);
    if (subject) {
      return (c) => {
        const s = subject(c);
        if (s !== null) for (let i = 0; i < conds.length; i++) if (conds[i]!(c) === s) return thens[i]!(c);
        return otherwise(c);
      };
    }
    return (c) => {
      for (let i = 0; i < conds.length; i++) if (truth(conds[i]!(c)) === true) return thens[i]!(c);
      return otherwise(c);
    };
  }
}

/**
 * Compiles one expression (optionally followed by `AS name`). `column` resolves a column reference once, at compile
 * time, to a reader of the evaluation context.
 */
export function compileSql(sql: string, column: (qualifier: 'l' | 'r' | null, name: string) => Fn): Compiled {
  return new Parser(tokenize(sql), sql, column).top();
}

/** Compiles a select list (`a, b AS c, ...`), as edgeSelectSql writes one. */
export function compileSqlList(sql: string, column: (qualifier: 'l' | 'r' | null, name: string) => Fn): Compiled[] {
  return new Parser(tokenize(sql), sql, column).list();
}
