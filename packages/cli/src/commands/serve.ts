/** `solvebox serve`: run the protocol server until SIGTERM or SIGINT. */
import type { Command } from '../command.js';
import { configFrom, optionsHelp, parseServerArgs, reloadOnHangup, untilSignal } from '../server-options.js';

/** The account `npm start` creates on an empty database, so that a new user can submit at once. */
const FIRST_ACCOUNT = { threads: 5, balanceMicros: 0, proxiesAllowed: true };
/** The console operator `npm start` creates when there is none. */
const FIRST_OPERATOR = 'admin';

export const serveCommand: Command = {
  async run(argv) {
    const { help, values } = parseServerArgs(argv);
    if (help) {
      process.stdout.write(
        `${['usage: solvebox serve [options]', '', 'Every option can also be set as an environment variable; flags win.', '', ...optionsHelp()].join('\n')}\n`,
      );
      return 0;
    }
    const config = configFrom(values);
    const { createAccount, createLogger, createOperator, installLastResort, redactUrl, startServer } = await import('@solvebox/server');
    const log = createLogger(config.logLevel);
    const server = await startServer(config, { log });
    // From here on, a fault no handler caught is logged, and the server goes on serving.
    installLastResort(log);
    const storage = server.services.storage;
    // Only a fresh embedded database gets a first account; a Redis deployment has an operator.
    if (!storage.shared && (await storage.listAccounts()).length === 0) {
      const { key } = await createAccount(storage, FIRST_ACCOUNT);
      process.stdout.write(
        `created the first account (${FIRST_ACCOUNT.threads} threads); its API key is\n${key}\n` +
          `try: curl '${server.url}/in.php?key=${key}&method=turnstile&sitekey=1x00000000000000000000AA&pageurl=https://example.com/'\n`,
      );
    }
    // Likewise a first console operator, so that the console can be opened at once.
    if (server.consoleUrl && !storage.shared && (await storage.listOperators()).length === 0) {
      const created = await createOperator(storage, FIRST_OPERATOR, 'admin');
      if (created) {
        process.stdout.write(`created the console operator "${FIRST_OPERATOR}" (admin); its password is\n${created.password}\n`);
      }
    }
    const stopped = untilSignal(() => server.close());
    reloadOnHangup(server.services.ocr, log);
    if (storage.shared) {
      process.stdout.write(`state in ${redactUrl(config.redisUrl)}${config.runSolvers ? '' : '; solving is left to workers'}\n`);
    }
    process.stdout.write(`listening on ${server.url}\n`);
    if (server.consoleUrl) process.stdout.write(`console on ${server.consoleUrl}\n`);
    return stopped;
  },
};
