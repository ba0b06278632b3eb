/** What follows a client's report (reportgood / reportbad, reportCorrect / reportIncorrect) once it is recorded. */
import type { Services } from './services.js';
import { applyReport, sampleKeeping } from './samples.js';
import type { ReportOutcome } from './storage/types.js';

/**
 * The training samples follow the verdict (samples.ts), and a relayed task's upstream hears it
 * with its own id, in the background: the client's answer does not wait for the upstream.
 */
export async function afterReport(
  svc: Pick<Services, 'storage' | 'config' | 'clock' | 'log' | 'relay'>,
  accountId: number,
  id: string,
  verdict: 'good' | 'bad',
  outcome: ReportOutcome,
): Promise<void> {
  if (outcome === 'recorded' && svc.relay) {
    svc.relay.forwardReport(id, verdict).catch((err: unknown) => svc.log.warn({ err, taskId: id }, 'could not forward a report upstream'));
  }
  await applyReport(sampleKeeping(svc), accountId, id, verdict, outcome);
}
