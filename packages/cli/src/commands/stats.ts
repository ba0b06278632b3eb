/** `solvebox stats`: what each solver did, with the accuracy clients reported (reportgood / reportbad). */
import { parseArgs } from 'node:util';
import { formatMicros, type SolverStats } from '@solvebox/server';
import { printTable } from '../output.js';
import { UsageError, type Command } from '../command.js';
import { STORAGE_FLAGS, STORAGE_USAGE, openAdminStorage } from '../server-options.js';

const USAGE = `usage: solvebox stats [--json] [--db FILE | --redis URL]

Per solver, since the database was created: tasks solved, tasks that failed with it, tasks it
declined (the OCR model doubted its reading; the fallback solver, if any, then had them), what its
solved tasks were charged (for relay:NAME, the upstream's own prices), and the reportgood /
reportbad verdicts of clients. Reported accuracy is good / (good + bad): only tasks a
client reported count, so it says most when clients report consistently.
${STORAGE_USAGE}`;

export const statsCommand: Command = {
  async run(argv) {
    const options = { ...STORAGE_FLAGS, json: { type: 'boolean' }, help: { type: 'boolean' } } as const;
    let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true }>>['values'];
    try {
      ({ values } = parseArgs({ args: [...argv], options, strict: true }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const storage = await openAdminStorage(values);
    try {
      const stats = await storage.solverStats();
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify(
            stats.map((s) => ({ ...s, reportedAccuracy: reportedAccuracy(s) })),
            null,
            2,
          )}\n`,
        );
        return 0;
      }
      const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
      printTable(
        ['SOLVER', 'SOLVED', 'FAILED', 'DECLINED', 'CHARGED', 'REPORTED GOOD', 'REPORTED BAD', 'REPORTED ACCURACY'],
        stats.map((s) => [
          s.solver,
          String(s.solved),
          String(s.failed),
          String(s.declined),
          formatMicros(s.chargedMicros),
          String(s.reportedGood),
          String(s.reportedBad),
          pct(reportedAccuracy(s)),
        ]),
      );
      return 0;
    } finally {
      await storage.close();
    }
  },
};

function reportedAccuracy(s: SolverStats): number | null {
  const reported = s.reportedGood + s.reportedBad;
  return reported === 0 ? null : s.reportedGood / reported;
}
