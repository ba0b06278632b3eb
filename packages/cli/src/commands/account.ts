/** `solvebox balance`, `solvebox report ID good|bad`, `solvebox result ID [--wait]`. */
import { parseArgs } from 'node:util';
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, clientFromFlags } from '../client-options.js';
import { EXIT } from '../exit-codes.js';
import { Progress, abortOnInterrupt, printAnswer, reportError } from '../output.js';
import { UsageError, type Command } from '../command.js';

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: { ...CLIENT_FLAGS, wait: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const balanceCommand: Command = {
  async run(argv) {
    const { values, positionals } = parse(argv);
    if (values.help) {
      process.stdout.write(`usage: solvebox balance\n\n${CLIENT_FLAGS_HELP}\n`);
      return EXIT.ok;
    }
    if (positionals.length > 0 || values.wait) throw new UsageError('balance takes no arguments');
    const json = values.json === true;
    try {
      printAnswer(await clientFromFlags(values, process.env).balance(), json, {});
      return EXIT.ok;
    } catch (err) {
      return reportError(err, json);
    }
  },
};

export const reportCommand: Command = {
  async run(argv) {
    const { values, positionals } = parse(argv);
    if (values.help) {
      process.stdout.write(`usage: solvebox report ID good|bad\n\n${CLIENT_FLAGS_HELP}\n`);
      return EXIT.ok;
    }
    const [id, verdict, ...extra] = positionals;
    if (id === undefined || (verdict !== 'good' && verdict !== 'bad') || extra.length > 0 || values.wait)
      throw new UsageError('usage: solvebox report ID good|bad');
    const json = values.json === true;
    try {
      await clientFromFlags(values, process.env).report(id, verdict);
      printAnswer('OK_REPORT_RECORDED', json, { taskId: id });
      return EXIT.ok;
    } catch (err) {
      return reportError(err, json);
    }
  },
};

export const resultCommand: Command = {
  async run(argv) {
    const { values, positionals } = parse(argv);
    if (values.help) {
      process.stdout.write(`usage: solvebox result ID [--wait]\n\n${CLIENT_FLAGS_HELP}\n`);
      return EXIT.ok;
    }
    const [id, ...extra] = positionals;
    if (id === undefined || extra.length > 0) throw new UsageError('usage: solvebox result ID [--wait]');
    const json = values.json === true;
    const progress = new Progress(json);
    const client = clientFromFlags(values, process.env, progress.onEvent);
    const interrupt = abortOnInterrupt();
    try {
      if (values.wait) {
        const { value, extra: fields } = await client.waitForResult(id, { signal: interrupt.signal, firstPollDelayMs: 0 });
        progress.done();
        printAnswer(value, json, { taskId: id, ...(Object.keys(fields).length > 0 ? { fields } : {}) });
        return EXIT.ok;
      }
      const state = await client.getResult(id, { signal: interrupt.signal });
      if (state.status === 'pending') {
        if (json) process.stdout.write(`${JSON.stringify({ taskId: id, status: 'pending' })}\n`);
        else process.stderr.write('CAPCHA_NOT_READY\n');
        return EXIT.notReady;
      }
      printAnswer(state.value, json, { taskId: id, ...(Object.keys(state.extra).length > 0 ? { fields: state.extra } : {}) });
      return EXIT.ok;
    } catch (err) {
      progress.done();
      return reportError(err, json);
    } finally {
      interrupt.dispose();
    }
  },
};
