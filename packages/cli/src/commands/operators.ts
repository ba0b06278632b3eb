/** `solvebox operators create | list | disable | enable`: the people who use the console. */
import type { Operator, OperatorRole, Storage } from '@solvebox/server';
import { printTable } from '../output.js';
import { UsageError, type Command } from '../command.js';
import { STORAGE_USAGE, openAdminStorage, parseAdminArgs } from '../server-options.js';

const USAGE = `usage:
  solvebox operators create NAME [--role admin|solver] [--db FILE | --redis URL]
      Creates a console operator and prints its generated password (and nothing else) on stdout.
      Default role: solver (the solve view only); admin adds the dashboard.
  solvebox operators list [--json] [--db FILE | --redis URL]
  solvebox operators disable NAME [--db FILE | --redis URL]
  solvebox operators enable NAME [--db FILE | --redis URL]

${STORAGE_USAGE}`;

export const operatorsCommand: Command = {
  async run(argv) {
    const { values, positionals } = parse(argv);
    const [action, name, ...extra] = positionals;
    if (values.help || action === undefined) {
      process.stdout.write(`${USAGE}\n`);
      return values.help ? 0 : 2;
    }
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (!['create', 'list', 'disable', 'enable'].includes(action)) throw new UsageError(`unknown action "${action}"\n${USAGE}`);
    if (action !== 'list' && name === undefined) throw new UsageError(`name the operator: solvebox operators ${action} NAME`);
    const role = parseRole(values.role);
    const { OPERATOR_NAME, createOperator } = await import('@solvebox/server');
    if (action === 'create' && !OPERATOR_NAME.test(name as string)) {
      throw new UsageError('an operator name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    const storage = await openAdminStorage(values);
    try {
      switch (action) {
        case 'create': {
          const created = await createOperator(storage, name as string, role);
          if (!created) {
            process.stderr.write(`an operator named ${name} exists already\n`);
            return 1;
          }
          process.stdout.write(`${created.password}\n`);
          return 0;
        }
        case 'list':
          return await list(storage, values.json === true);
        default:
          return await setDisabled(storage, name as string, action === 'disable');
      }
    } finally {
      await storage.close();
    }
  },
};

function parse(argv: readonly string[]) {
  return parseAdminArgs(argv, { role: { type: 'string' } });
}

function parseRole(role: string | undefined): OperatorRole {
  if (role === undefined || role === 'solver') return 'solver';
  if (role === 'admin') return 'admin';
  throw new UsageError('--role must be admin or solver');
}

async function list(storage: Storage, json: boolean): Promise<number> {
  // The password hashes stay out.
  const operators = (await storage.listOperators()).map(({ passwordHash: _secret, ...o }: Operator) => o);
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        operators.map((o) => ({ ...o, createdAt: new Date(o.createdAt).toISOString() })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  printTable(
    ['NAME', 'ROLE', 'STATUS', 'CREATED'],
    operators.map((o) => [o.name, o.role, o.disabled ? 'disabled' : 'active', new Date(o.createdAt).toISOString()]),
  );
  return 0;
}

async function setDisabled(storage: Storage, name: string, disabled: boolean): Promise<number> {
  if (!(await storage.setOperatorDisabled(name, disabled))) {
    process.stderr.write('no such operator\n');
    return 1;
  }
  await storage.appendAudit({ at: Date.now(), actor: 'cli', action: disabled ? 'operator.disable' : 'operator.enable', target: name });
  process.stdout.write(`operator ${name} ${disabled ? 'disabled' : 'enabled'}\n`);
  return 0;
}
