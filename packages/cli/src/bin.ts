/** The `solvebox` command: dispatch only; each command lives in its own module. */
import { COMMANDS, type Command, UsageError } from './commands/index.js';

function usage(): string {
  const lines = ['usage: solvebox <command> [options]', '', 'commands:'];
  for (const command of COMMANDS) lines.push(`  ${command.usage.padEnd(44)} ${command.summary}`);
  lines.push('', 'Run `solvebox <command> --help` for its options.');
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`solvebox: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`solvebox ${command.name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`solvebox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
