/**
 * Confirmed answers become training data (`solvebox ocr adapt`): an image task answered by an
 * operator, or answered by any solver and reported good by its client, is kept as a sample, up to
 * `--samples-keep` (0: none). A `reportbad` drops the task's sample. Keeping a sample never holds up
 * or fails the request that confirmed it: a storage fault is logged and the sample is lost.
 */
import type { Solution, TaskSpec } from '@solvebox/protocol';
import type { Logger } from './logger.js';
import type { Services } from './services.js';
import type { ReportOutcome, Sample, Storage } from './storage/types.js';

export interface SampleKeeping {
  readonly storage: Storage;
  readonly keep: number;
  readonly clock: () => number;
  readonly log: Logger;
}

/** The sample an image task and its text answer make; undefined for other tasks. */
function sampleOf(id: string, spec: TaskSpec, solution: Solution, source: Sample['source'], answeredBy: string, at: number): Sample | undefined {
  if (spec.type !== 'image' || solution.kind !== 'text') return undefined;
  return { id, image: spec.image, hints: spec.hints, answer: solution.text, source, answeredBy, at };
}

async function keep(k: SampleKeeping, sample: Sample | undefined): Promise<void> {
  if (!sample || k.keep <= 0) return;
  try {
    await k.storage.keepSample(sample, k.keep);
  } catch (err) {
    k.log.warn({ err, taskId: sample.id }, 'could not keep a training sample');
  }
}

/** An operator answered a task: their answer is confirmed. */
export function keepOperatorAnswer(k: SampleKeeping, id: string, spec: TaskSpec, solution: Solution, operator: string): Promise<void> {
  return keep(k, sampleOf(id, spec, solution, 'operator', operator, k.clock()));
}

/** After a client's report was recorded: `good` keeps the task as a sample, `bad` drops it. */
export async function applyReport(k: SampleKeeping, accountId: number, id: string, verdict: 'good' | 'bad', outcome: ReportOutcome): Promise<void> {
  if (outcome !== 'recorded' || k.keep <= 0) return;
  try {
    if (verdict === 'bad') {
      await k.storage.dropSample(id);
      return;
    }
    const solved = await k.storage.solvedTask(accountId, id, k.clock());
    if (solved) await keep(k, sampleOf(id, solved.spec, solved.solution, 'reported', solved.solver, k.clock()));
  } catch (err) {
    k.log.warn({ err, taskId: id }, 'could not update the training samples after a report');
  }
}

/** What keeping samples needs of a request's services. */
export function sampleKeeping(svc: Pick<Services, 'storage' | 'config' | 'clock' | 'log'>): SampleKeeping {
  return { storage: svc.storage, keep: svc.config.samplesKeep, clock: svc.clock, log: svc.log };
}
