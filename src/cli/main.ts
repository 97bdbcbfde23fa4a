// c360: the one command line for local runs and for the jobs ADF schedules in Azure.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { C360Error, isEnvironmentError, isTransient, UsageError, withHint } from '../runtime/errors.ts';
import { localLakeOf, openLake } from '../lake/index.ts';
import { clearStatusLine } from '../runtime/logger.ts';
import { sweepStaleTmp } from '../runtime/tmp.ts';
import { holderOf, homeLockFile, lockFile, lockWaitMs } from '../runtime/lock.ts';
import { homeOf, ioFor, parse, str, usage, type Command, type Values } from './command.ts';

const COMMANDS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'commands');

export async function loadCommands(): Promise<Command[]> {
  const files = (await readdir(COMMANDS_DIR)).filter((f) => f.endsWith('.ts')).sort();
  const commands: Command[] = [];
  for (const f of files) {
    const mod = (await import(join(COMMANDS_DIR, f))) as { command?: Command; commands?: Command[] };
    if (mod.command) commands.push(mod.command);
    if (mod.commands) commands.push(...mod.commands);
  }
  return commands.sort((a, b) => a.name.localeCompare(b.name));
}

function help(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    'c360: Customer 360 lakehouse',
    '',
    'Usage: c360 <command> [options]    (c360 <command> --help for its options)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
  ].join('\n');
}

/** The commands of one file (commands/<name>.ts), or none: loading every command costs seconds of startup. */
async function loadCommandFile(name: string | undefined): Promise<Command[]> {
  if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) return [];
  const file = join(COMMANDS_DIR, `${name}.ts`);
  if (!existsSync(file)) return [];
  const mod = (await import(file)) as { command?: Command; commands?: Command[] };
  return [...(mod.command ? [mod.command] : []), ...(mod.commands ?? [])];
}

function matchOf(commands: readonly Command[], argv: readonly string[]): Command | undefined {
  // Longest multi-word match first: 'adf build' before 'adf'.
  return [...commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((w, i) => argv[i] === w));
}

export async function main(argv: string[]): Promise<number> {
  // The file named after the command first; every command only when that does not find it (help, groups, typos).
  let match = matchOf(await loadCommandFile(argv[0]), argv);
  const commands = match ? [match] : await loadCommands();
  match ??= matchOf(commands, argv);
  if (!match) {
    if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
      const pkg = JSON.parse(await readFile(join(COMMANDS_DIR, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`c360 ${pkg.version}\n`);
      return 0;
    }
    // A command group ('adf', 'snowflake'): list its commands.
    const group = argv[0] && !argv[0].startsWith('-') ? commands.filter((c) => c.name.startsWith(`${argv[0]} `)) : [];
    if (group.length > 0) {
      const asked = argv.slice(1).every((a) => a === '--help' || a === '-h');
      (asked ? process.stdout : process.stderr).write(`${help(group).replace('c360 <command>', `c360 ${argv[0]} <command>`)}\n`);
      return asked && argv.length > 1 ? 0 : 2;
    }
    if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
      process.stdout.write(help(commands) + '\n');
      return argv.length === 0 ? 2 : 0;
    }
    process.stderr.write(`Unknown command '${argv.join(' ')}'.\n\n${help(commands)}\n`);
    return 2;
  }
  // --debug (any command): stack traces on errors and debug log lines.
  const debug = argv.includes('--debug');
  if (debug) process.env.C360_DEBUG ??= '1';
  const rest = argv.slice(match.name.split(' ').length).filter((a) => a !== '--debug');
  const json = rest.includes('--json');
  // With --json, a fatal error is one JSON line too (ADF and scripts parse stderr).
  const fail = (message: string, code: number, stack?: string) => {
    clearStatusLine();
    if (json) process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', command: match.name, msg: message, exitCode: code, ...(stack ? { stack } : {}) }) + '\n');
    else process.stderr.write(`c360 ${match.name}: ${message}\n${stack ? `${stack}\n` : ''}`);
    return code;
  };
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage(match) + (match.details?.(rest.filter((a) => !a.startsWith('-'))) ?? '') + '\n');
    return 0;
  }
  try {
    const { values, positionals } = parse(match, rest);
    const home = match.options?.home ? homeOf(values) : undefined;
    if (home) {
      // A file given as the home (a slip for --file, or a typo'd path) failed with an unexpected EEXIST or ENOTDIR.
      const s = await stat(home).catch(() => undefined);
      if (s && !s.isDirectory()) throw new UsageError(`--home ${home} is not a folder: a home is the folder c360 keeps its lake, runs and temp files in (default .c360, or C360_HOME)`);
    }
    await match.precheck?.(values, positionals);
    if (home) {
      // Scratch files a killed command left in this home go first (src/runtime/tmp.ts: only those of dead processes).
      // So do the temp siblings of lake writes it was killed in (a local lake: src/lake/local-lake.ts).
      await sweepStaleTmp(join(home, 'tmp'));
      await localLakeOf(home, str(values, 'lake'))?.sweepStaleWrites();
    }
    const scope = match.lockScope?.(values, positionals);
    const release = scope ? await lockFor(match, scope, values, rest) : undefined;
    try {
      const code = await match.run(values, positionals, ioFor(values));
      return code ?? 0;
    } finally {
      await release?.();
    }
  } catch (error) {
    const e = error as Error;
    if (error instanceof UsageError) return fail(e.message, 2);
    // No stack trace unless --debug (or C360_DEBUG): an unexpected error says how to get one.
    const known = error instanceof C360Error || isEnvironmentError(error);
    const message = known || process.env.C360_DEBUG ? withHint(e.message) : `${e.message} (unexpected: run again with --debug for the stack trace)`;
    // 75 (EX_TEMPFAIL): retrying later may succeed (a busy home, an unreachable service, a full disk).
    return fail(message, isTransient(error) ? 75 : 1, process.env.C360_DEBUG ? e.stack : undefined);
  }
}

/** The home lock, then the lake scope's lease when the lake has one (ADLS); released in that order's reverse. */
async function lockFor(command: Command, scope: string, values: Values, argv: string[]): Promise<() => Promise<void>> {
  const home = homeOf(values);
  const holder = holderOf(`c360 ${command.name} ${argv.join(' ')}`.trim());
  const releaseHome = await lockFile(homeLockFile(home), holder, `Home ${home}`);
  try {
    const lake = await openLake(home, str(values, 'lake'));
    const releaseLake = lake.lock ? await lake.lock(scope, holder, lockWaitMs()) : undefined;
    return async () => {
      await releaseLake?.();
      await releaseHome();
    };
  } catch (e) {
    await releaseHome();
    throw e;
  }
}
