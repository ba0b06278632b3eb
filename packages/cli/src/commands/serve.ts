/** `solvebox serve`: run the protocol server until SIGTERM or SIGINT. */
import { parseArgs } from 'node:util';
import { ConfigError, OPTIONS, createAccount, envName, loadConfig, startServer, type RunningServer } from '@solvebox/server';
import { UsageError, type Command } from './index.js';

/** The account `npm start` creates on an empty database, so that a new user can submit at once. */
const FIRST_ACCOUNT = { threads: 5, balanceMicros: 0, proxiesAllowed: true };

function help(): string {
  const lines = ['usage: solvebox serve [options]', '', 'Every option can also be set as an environment variable; flags win.', ''];
  for (const option of OPTIONS) {
    lines.push(`  --${option.flag} <value>`.padEnd(34) + ` ${envName(option.flag)}, default ${option.default}`);
    lines.push(`      ${option.doc}`);
  }
  return lines.join('\n');
}

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--host H] [--port P] [--db FILE] ...',
  summary: 'Run the in.php / res.php server',
  async run(argv) {
    const { values } = parseServeArgs(argv);
    if (values.help) {
      process.stdout.write(`${help()}\n`);
      return 0;
    }
    const { help: _help, ...options } = values;
    let config;
    try {
      config = loadConfig(options as Record<string, string>, process.env);
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
    const server = await startServer(config);
    const storage = server.services.storage;
    if ((await storage.listAccounts()).length === 0) {
      const { key } = await createAccount(storage, FIRST_ACCOUNT);
      process.stdout.write(
        `created the first account (${FIRST_ACCOUNT.threads} threads); its API key is\n${key}\n` +
          `try: curl '${server.url}/in.php?key=${key}&method=turnstile&sitekey=1x00000000000000000000AA&pageurl=https://example.com/'\n`,
      );
    }
    // Handlers first: whoever reads "listening on" may signal at once (a test, a supervisor), and
    // a signal before the handlers exist would kill the process without closing the database.
    const stopped = waitForSignal(server);
    process.stdout.write(`listening on ${server.url}\n`);
    return stopped;
  },
};

function parseServeArgs(argv: readonly string[]) {
  const options: Record<string, { type: 'string' } | { type: 'boolean' }> = { help: { type: 'boolean' } };
  for (const option of OPTIONS) options[option.flag] = { type: 'string' };
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function waitForSignal(server: RunningServer): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        process.exit(1);
      }
      stopping = true;
      server.close().then(
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
