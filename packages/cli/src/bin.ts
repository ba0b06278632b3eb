/** The `solvebox` command: dispatch only; each command lives in its own module. */
import { UsageError, type CommandEntry } from './command.js';
import { COMMANDS } from './commands/index.js';
import { EXIT } from './exit-codes.js';

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
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command: CommandEntry | undefined = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`solvebox: unknown command "${name}"\n\n${usage()}\n`);
    return EXIT.usage;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`solvebox ${command.name}: ${err.message}\n`);
      return EXIT.usage;
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
