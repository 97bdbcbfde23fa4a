// ADF expression helpers: string literals, placeholder templates, Expression objects.
import type { MasterPipeline } from '../../pipelines/ir.ts';

export interface AdfExpression {
  value: string;
  type: 'Expression';
}

/** An ADF expression object; `body` is written without the leading '@'. */
export function expr(body: string): AdfExpression {
  return { value: `@${body}`, type: 'Expression' };
}

/** A single-quoted ADF string literal ('' escapes a quote). */
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** concat(...) of expression parts, collapsing the trivial cases. */
export function concat(parts: string[]): string {
  if (parts.length === 0) return "''";
  if (parts.length === 1) return parts[0]!;
  return `concat(${parts.join(', ')})`;
}

/**
 * How each {{placeholder}} of the definition reads inside an ADF pipeline: the pipeline parameter of the same name
 * (stringified for Int/Bool ones, since job parameters are strings on a command line), or item() inside a ForEach.
 */
export function placeholderScope(master: MasterPipeline, inForEach: boolean): Map<string, string> {
  const scope = new Map<string, string>();
  for (const p of master.parameters) {
    const ref = `pipeline().parameters.${p.name}`;
    // ADF's string(true) is 'True'; the local runner passes 'true', and jobs compare against that.
    scope.set(p.name, p.type === 'String' ? ref : p.type === 'Bool' ? `toLower(string(${ref}))` : `string(${ref})`);
  }
  if (inForEach) scope.set('item', 'item()');
  return scope;
}

/** Turns 'table={{item}}' into concat('table=', item()); unknown placeholders are a build error. */
export function templateExpr(template: string, scope: Map<string, string>, where: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{\{(\w+)\}\}/g)) {
    if (m.index! > last) parts.push(lit(template.slice(last, m.index)));
    const ref = scope.get(m[1]!);
    if (!ref) throw new Error(`${where}: unknown placeholder {{${m[1]}}} (known: ${[...scope.keys()].join(', ')})`);
    parts.push(ref);
    last = m.index! + m[0].length;
  }
  if (last < template.length) parts.push(lit(template.slice(last)));
  return concat(parts);
}

/** "d.hh:mm:ss" TimeSpan for ADF timeouts. */
export function timeSpan(totalMinutes: number): string {
  const m = Math.max(1, Math.ceil(totalMinutes));
  const days = Math.floor(m / 1440);
  const hh = Math.floor((m % 1440) / 60);
  const mm = m % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days}.${two(hh)}:${two(mm)}:00`;
}
