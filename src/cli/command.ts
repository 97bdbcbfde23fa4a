// How a CLI command is declared. Commands live one per file in src/cli/commands/ and are discovered by name.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { isIsoDate } from '../runtime/as-of.ts';
import { UsageError } from '../runtime/errors.ts';
import { clearStatusLine, createLogger, type Logger } from '../runtime/logger.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  multiple?: boolean;
  short?: string;
  default?: string | boolean;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  /** One or more words, e.g. 'run' or 'adf build'. */
  name: string;
  summary: string;
  /** Positional arguments description, e.g. '<job-name>'. */
  args?: string;
  options: Record<string, OptionSpec>;
  run(values: Values, positionals: string[], io: CommandIO): Promise<number | void>;
  /**
   * Commands that write to the home and lake name their lake scope here: main takes the home lock and, on a shared
   * (ADLS) lake, a lease on that scope before running (src/runtime/lock.ts).
   */
  lockScope?(values: Values, positionals: string[]): string | undefined;
  /** Checks of the invocation made before any work, the home's creation and lock included (throw a UsageError). */
  precheck?(values: Values, positionals: string[]): void | Promise<void>;
  /** More help for `--help` given the positionals (e.g. a job's parameters). */
  details?(positionals: string[]): string | undefined;
}

export interface CommandIO {
  log: Logger;
  out: (line: string) => void;
}

/** Options most commands share. */
export const HOME_OPTION: Record<string, OptionSpec> = {
  home: { type: 'string', description: 'Working home: lake/, runs/, warehouse.duckdb (default: $C360_HOME or .c360)' },
  json: { type: 'boolean', description: 'JSON log lines even on a terminal' },
};

export function homeOf(values: Values): string {
  // An empty --home (an unset shell variable) resolved to the current folder, which then became a home.
  if (values.home === '') throw new UsageError('--home is empty (an unset variable?): give the home folder, or leave --home out for $C360_HOME or .c360');
  return resolve((values.home as string | undefined) ?? (process.env.C360_HOME || '.c360'));
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function requireStr(values: Values, name: string): string {
  const v = str(values, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function int(values: Values, name: string, fallback: number): number {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got '${v}'`);
  return n;
}

export function isoDate(values: Values, name: string): string | undefined {
  const v = str(values, name);
  if (v !== undefined && !isIsoDate(v)) throw new UsageError(`--${name} must be a date YYYY-MM-DD, got '${v}'`);
  return v;
}

export function parse(command: Command, argv: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(command.options).map(([k, o]) => {
          const spec: Record<string, unknown> = { type: o.type };
          if (o.multiple) spec.multiple = true;
          if (o.short) spec.short = o.short;
          if (o.default !== undefined) spec.default = o.default;
          return [k, spec as never];
        }),
      ),
      allowPositionals: true,
      strict: true,
    });
    // A word the command takes no argument for was ignored: `c360 ingest --file a.csv b.csv` ingested a.csv only.
    if (!command.args && positionals.length > 0) throw new Error(`Unexpected argument '${positionals[0]}': this command takes its inputs as --flags (see --help), one --file per ingest`);
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage(command)}`);
  }
}

export function usage(command: Command): string {
  const lines = [`Usage: c360 ${command.name}${command.args ? ` ${command.args}` : ''} [options]`, '', command.summary, ''];
  for (const [k, o] of Object.entries(command.options)) {
    lines.push(`  --${k}${o.type === 'string' ? ' <value>' : ''}`.padEnd(30) + o.description + (o.default !== undefined ? ` (default: ${o.default})` : ''));
  }
  return lines.join('\n');
}

export function ioFor(values: Values): CommandIO {
  const json = values.json === true;
  const log = createLogger({ json: json ? true : undefined });
  // With --json, stdout is JSON lines too: plain result lines become {"out": line}.
  const out = (line: string) => {
    clearStatusLine();
    process.stdout.write((json && !line.startsWith('{') ? JSON.stringify({ out: line }) : line) + '\n');
  };
  return { log, out };
}

/** A result line as the command meant it, whether or not --json wrapped it (for programs reading a child's stdout). */
export function resultLine(line: string): string {
  if (!line.startsWith('{"out":')) return line;
  const v = (JSON.parse(line) as { out?: unknown }).out;
  return typeof v === 'string' ? v : line;
}
