/** What `serve` and `worker` share: the server option table as flags, and stopping on a signal. */
import { parseArgs } from 'node:util';
import type { Storage } from '@solvebox/server';
import { ConfigError, OPTIONS, envName, loadConfig, type ServerConfig } from '@solvebox/server/config';
import { UsageError } from './command.js';

/** The option table as help text. */
export function optionsHelp(): string[] {
  const lines: string[] = [];
  for (const option of OPTIONS) {
    lines.push(`${`  --${option.flag} <${option.hint}>`.padEnd(40)} ${envName(option.flag)}, default ${option.default}`);
    lines.push(`      ${option.doc}`);
  }
  return lines;
}

/** Parses `--flag value` pairs of the option table (plus --help); unknown flags are usage errors. */
export function parseServerArgs(argv: readonly string[]): { help: boolean; values: Record<string, string> } {
  const options: Record<string, { type: 'string' } | { type: 'boolean' }> = { help: { type: 'boolean' } };
  for (const option of OPTIONS) options[option.flag] = { type: 'string' };
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    const { help, ...rest } = values;
    return { help: help === true, values: rest as Record<string, string> };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function configFrom(values: Record<string, string>): ServerConfig {
  try {
    return loadConfig(values, process.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Resolves with exit code 0 once `close` finished after SIGTERM or SIGINT (1 if it failed); a
 * second signal exits at once. Install it before announcing readiness: whoever reads the
 * announcement may signal at once (a test, a supervisor), and a signal before the handlers exist
 * would kill the process without closing storage.
 */
/** SIGHUP loads the OCR model folder again (a new or rolled-back model), without dropping tasks. */
export function reloadOnHangup(
  ocr: { reload(): Promise<{ dir: string }> } | undefined,
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
): void {
  if (!ocr) return;
  process.on('SIGHUP', () => {
    ocr.reload().then(
      (model) => {
        log.info({ model: model.dir }, 'reloaded the OCR model');
        process.stdout.write(`reloaded the OCR model from ${model.dir}\n`);
      },
      (err: unknown) => {
        log.error({ err }, 'could not reload the OCR model; the previous one stays in use');
        process.stderr.write(`could not reload the OCR model (the previous one stays in use): ${(err as Error).message}\n`);
      },
    );
  });
}

export function untilSignal(close: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        process.exit(1);
      }
      stopping = true;
      close().then(
        () => resolve(0),
        (err: unknown) => {
          process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** The flags of the admin commands (keys, stats) that say where the state is. */
export const STORAGE_FLAGS = { db: { type: 'string' }, redis: { type: 'string' }, 'redis-prefix': { type: 'string' } } as const;
export const STORAGE_USAGE = `The state is in --redis URL (else ${envName('redis')}) when given, else in the SQLite file --db
(else ${envName('db')}, else ./data/solvebox.db).`;

type FlagSpecs = Record<string, { readonly type: 'string' } | { readonly type: 'boolean' }>;
type AdminFlags<Flags extends FlagSpecs> = Flags & typeof STORAGE_FLAGS & { json: { type: 'boolean' }; help: { type: 'boolean' } };
/** What parseAdminArgs returns: each flag's value by its type, and the positionals. */
export type AdminArgs<Flags extends FlagSpecs> = ReturnType<typeof parseArgs<{ options: AdminFlags<Flags>; strict: true; allowPositionals: true }>>;

/**
 * Parses an admin command's arguments: its own flags, the storage flags, `--json` and `--help`,
 * strictly, with positionals; a bad flag is a UsageError.
 */
export function parseAdminArgs<const Flags extends FlagSpecs>(argv: readonly string[], flags: Flags): AdminArgs<Flags> {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...flags, ...STORAGE_FLAGS, json: { type: 'boolean' }, help: { type: 'boolean' } } as const,
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Opens the storage the admin commands work on: Redis when a URL is given, else the SQLite file. */
export async function openAdminStorage(values: { db?: string | undefined; redis?: string | undefined; 'redis-prefix'?: string | undefined }): Promise<Storage> {
  const given: Record<string, string> = {};
  for (const flag of Object.keys(STORAGE_FLAGS) as (keyof typeof STORAGE_FLAGS)[]) {
    const value = values[flag];
    if (value !== undefined) given[flag] = value;
  }
  const config = configFrom(given);
  // A CLI process may wait longer for the server's write lock than a request does.
  if (config.storage === 'redis') return (await import('@solvebox/server')).createStorage(config);
  const { SqliteStorage } = await import('@solvebox/server/storage/sqlite');
  return new SqliteStorage({ file: config.db, busyTimeoutMs: 5000 });
}
