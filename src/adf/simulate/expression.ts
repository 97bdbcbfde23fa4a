// An interpreter for the subset of the ADF expression language the compiler emits, so the generated pipelines can
// be executed offline (see run.ts). Unknown functions are an error: a typo in generated JSON fails a test here
// instead of a run in Azure.

export interface ExpressionScope {
  pipeline(): Record<string, unknown>;
  variables(name: string): unknown;
  activity(name: string): unknown;
  item(): unknown;
  now(): number;
}

type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'call'; name: string; args: Node[] }
  | { k: 'prop'; target: Node; name: string; optional: boolean }
  | { k: 'index'; target: Node; index: Node };

function tokenize(src: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (c === "'") {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= src.length) throw new Error(`unterminated string in expression: ${src}`);
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += src[j++];
      }
      tokens.push(`'${s}`);
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))![0];
      tokens.push(m);
      i += m.length;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(src.slice(i));
      if (!m) throw new Error(`bad number at ${i} in ${src}`);
      tokens.push(m[0]);
      i += m[0].length;
    } else if (c === '?' && src[i + 1] === '.') {
      tokens.push('?.');
      i += 2;
    } else if ('(),.[]'.includes(c)) {
      tokens.push(c);
      i++;
    } else throw new Error(`unexpected '${c}' at ${i} in expression: ${src}`);
  }
  return tokens;
}

export function parseExpression(src: string): Node {
  const t = tokenize(src);
  let pos = 0;
  const expect = (tok: string) => {
    if (t[pos] !== tok) throw new Error(`expected '${tok}' at token ${pos} ('${t[pos] ?? 'end'}') in: ${src}`);
    pos++;
  };
  const primary = (): Node => {
    const tok = t[pos++];
    if (tok === undefined) throw new Error(`unexpected end of expression: ${src}`);
    if (tok.startsWith("'")) return { k: 'lit', v: tok.slice(1) };
    if (/^-?[0-9]/.test(tok)) return { k: 'lit', v: Number(tok) };
    if (tok === 'true' || tok === 'false') return { k: 'lit', v: tok === 'true' };
    if (tok === 'null') return { k: 'lit', v: null };
    if (/^[A-Za-z_]/.test(tok)) {
      expect('(');
      const args: Node[] = [];
      if (t[pos] !== ')') {
        for (;;) {
          args.push(expr());
          if (t[pos] === ',') pos++;
          else break;
        }
      }
      expect(')');
      return { k: 'call', name: tok, args };
    }
    throw new Error(`unexpected token '${tok}' in: ${src}`);
  };
  const expr = (): Node => {
    let node = primary();
    for (;;) {
      if (t[pos] === '.' || t[pos] === '?.') {
        const optional = t[pos] === '?.';
        pos++;
        node = { k: 'prop', target: node, name: t[pos++]!, optional };
      } else if (t[pos] === '[') {
        pos++;
        const index = expr();
        expect(']');
        node = { k: 'index', target: node, index };
      } else return node;
    }
  };
  const node = expr();
  if (pos !== t.length) throw new Error(`trailing tokens after position ${pos} in: ${src}`);
  return node;
}

/** ADF's string(): JSON for arrays and objects, True/False for booleans. */
export function adfString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function formatDate(ms: number, fmt: string): string {
  const iso = new Date(ms).toISOString();
  if (fmt === 'yyyy-MM-dd') return iso.slice(0, 10);
  throw new Error(`formatDateTime format '${fmt}' not supported by the simulator`);
}

const FUNCTIONS: Record<string, (args: unknown[], scope: ExpressionScope) => unknown> = {
  concat: (a) => a.map(adfString).join(''),
  createArray: (a) => a,
  json: ([s]) => JSON.parse(String(s)),
  string: ([v]) => adfString(v),
  int: ([v]) => {
    const n = Number.parseInt(String(v), 10);
    if (Number.isNaN(n)) throw new Error(`int(): '${String(v)}' is not an integer`);
    return n;
  },
  bool: ([v]) => (typeof v === 'boolean' ? v : String(v).toLowerCase() === 'true'),
  add: ([x, y]) => Number(x) + Number(y),
  if: ([c, a, b]) => (c === true ? a : b),
  or: (a) => a.some((x) => x === true),
  and: (a) => a.every((x) => x === true),
  not: ([x]) => x !== true,
  equals: ([x, y]) => JSON.stringify(x) === JSON.stringify(y),
  greater: ([x, y]) => Number(x) > Number(y),
  greaterOrEquals: ([x, y]) => Number(x) >= Number(y),
  contains: ([c, v]) => (Array.isArray(c) ? c.some((x) => JSON.stringify(x) === JSON.stringify(v)) : typeof c === 'string' ? c.includes(String(v)) : Object.hasOwn(c as object, String(v))),
  empty: ([v]) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0),
  toLower: ([s]) => String(s).toLowerCase(),
  utcNow: (_a, scope) => new Date(scope.now()).toISOString(),
  addMinutes: ([ts, m]) => new Date(Date.parse(String(ts)) + Number(m) * 60_000).toISOString(),
  ticks: ([ts]) => {
    const ms = Date.parse(String(ts));
    if (Number.isNaN(ms)) throw new Error(`ticks(): '${String(ts)}' is not a timestamp`);
    return ms * 10_000 + 621355968000000000;
  },
  formatDateTime: ([ts, fmt]) => formatDate(Date.parse(String(ts)), String(fmt)),
  pipeline: (_a, scope) => scope.pipeline(),
  variables: ([n], scope) => scope.variables(String(n)),
  activity: ([n], scope) => scope.activity(String(n)),
  item: (_a, scope) => scope.item(),
};

function evaluate(node: Node, scope: ExpressionScope): unknown {
  switch (node.k) {
    case 'lit':
      return node.v;
    case 'call': {
      const f = FUNCTIONS[node.name];
      if (!f) throw new Error(`unknown ADF function '${node.name}'`);
      // ADF evaluates every argument (no short-circuit), so the simulator does too.
      return f(node.args.map((a) => evaluate(a, scope)), scope);
    }
    case 'prop': {
      const target = evaluate(node.target, scope) as Record<string, unknown> | null | undefined;
      if (target === null || target === undefined || typeof target !== 'object') {
        if (node.optional) return null;
        throw new Error(`property '${node.name}' of a non-object`);
      }
      if (!(node.name in target)) {
        if (node.optional) return null;
        throw new Error(`property '${node.name}' does not exist (has: ${Object.keys(target).join(', ')})`);
      }
      return target[node.name];
    }
    case 'index': {
      const target = evaluate(node.target, scope) as Record<string, unknown>;
      return target?.[String(evaluate(node.index, scope))];
    }
  }
}

/** Evaluates an ADF value: an {value:'@...', type:'Expression'} object or an '@...' string; other values as they are. */
export function evalValue(value: unknown, scope: ExpressionScope): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Expression') return evalValue((value as { value: string }).value, scope);
  if (typeof value === 'string' && value.startsWith('@') && !value.startsWith('@@')) {
    if (value.startsWith('@{')) throw new Error(`string interpolation is not used by the compiler: ${value}`);
    return evaluate(parseExpression(value.slice(1)), scope);
  }
  return value;
}
