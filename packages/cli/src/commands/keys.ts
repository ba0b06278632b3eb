/** `solvebox keys create | list | disable | enable`: manage accounts in the database file. */
import { createAccount, formatMicros, hashApiKey, parseMicros, type Account, type Storage } from '@solvebox/server';
import { printTable } from '../output.js';
import { UsageError, type Command } from '../command.js';
import { STORAGE_USAGE, openAdminStorage, parseAdminArgs } from '../server-options.js';

const USAGE = `usage:
  solvebox keys create [--threads N] [--balance X] [--no-proxy] [--db FILE | --redis URL]
      Creates an account and prints its new 32-character key (and nothing else) on stdout.
      Defaults: 5 threads, balance 0, proxies allowed.
  solvebox keys list [--json] [--db FILE | --redis URL]
  solvebox keys disable KEY|ACCOUNT_ID [--db FILE | --redis URL]
  solvebox keys enable KEY|ACCOUNT_ID [--db FILE | --redis URL]

${STORAGE_USAGE}`;

export const keysCommand: Command = {
  async run(argv) {
    const { values, positionals } = parse(argv);
    const [action, target, ...extra] = positionals;
    if (values.help || action === undefined) {
      process.stdout.write(`${USAGE}\n`);
      return values.help ? 0 : 2;
    }
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (!['create', 'list', 'disable', 'enable'].includes(action)) throw new UsageError(`unknown action "${action}"\n${USAGE}`);
    // Arguments are checked before the database is opened (or created).
    const newAccount = action === 'create' ? accountOptions(values) : undefined;
    const storage = await openAdminStorage(values);
    try {
      switch (action) {
        case 'create': {
          const { key } = await createAccount(storage, newAccount!);
          process.stdout.write(`${key}\n`);
          return 0;
        }
        case 'list':
          return await list(storage, values.json === true);
        case 'disable':
        case 'enable':
          return await setDisabled(storage, target, action === 'disable');
        default:
          throw new UsageError(`unknown action "${action}"`);
      }
    } finally {
      await storage.close();
    }
  },
};

function parse(argv: readonly string[]) {
  return parseAdminArgs(argv, { threads: { type: 'string' }, balance: { type: 'string' }, 'no-proxy': { type: 'boolean' } });
}

function accountOptions(values: { threads?: string; balance?: string; 'no-proxy'?: boolean }): {
  threads: number;
  balanceMicros: number;
  proxiesAllowed: boolean;
} {
  const threads = values.threads === undefined ? 5 : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0 || threads > 100_000) throw new UsageError('--threads must be an integer from 0 to 100000');
  const balanceMicros = values.balance === undefined ? 0 : parseMicros(values.balance);
  if (balanceMicros === undefined) throw new UsageError('--balance must be a decimal number, e.g. 12.5');
  return { threads, balanceMicros, proxiesAllowed: values['no-proxy'] !== true };
}

async function list(storage: Storage, json: boolean): Promise<number> {
  const accounts = await storage.listAccounts();
  if (json) {
    // The key hash stays out: it is the secret the account's pingbacks are signed with.
    const rows = accounts.map(({ keyHash: _secret, ...a }) => ({
      ...a,
      balance: formatMicros(a.balanceMicros),
      createdAt: new Date(a.createdAt).toISOString(),
    }));
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const header = ['ID', 'KEY', 'THREADS', 'BALANCE', 'PROXIES', 'STATUS', 'CREATED'];
  const rows = accounts.map((a) => [
    String(a.id),
    a.keyHint,
    String(a.threads),
    formatMicros(a.balanceMicros),
    a.proxiesAllowed ? 'yes' : 'no',
    a.disabled ? 'disabled' : 'active',
    new Date(a.createdAt).toISOString(),
  ]);
  printTable(header, rows);
  return 0;
}

async function setDisabled(storage: Storage, target: string | undefined, disabled: boolean): Promise<number> {
  if (target === undefined) throw new UsageError('name the key, or the account id that `keys list` shows');
  const account = await findAccount(storage, target);
  if (!account) {
    process.stderr.write('no such key or account id\n');
    return 1;
  }
  await storage.setAccountDisabled(account.id, disabled);
  process.stdout.write(`account ${account.id} (${account.keyHint}) ${disabled ? 'disabled' : 'enabled'}\n`);
  return 0;
}

function findAccount(storage: Storage, target: string): Promise<Account | undefined> {
  if (/^[0-9]{1,12}$/.test(target)) return storage.findAccount({ id: Number(target) });
  return storage.findAccount({ keyHash: hashApiKey(target) });
}
