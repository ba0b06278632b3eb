/**
 * Solver chains: for each task type, its solver, then its fallback, per the `solvers` and
 * `fallbacks` configuration; and the backends those chains need started (the OCR pool, loaded only
 * when a chain names it).
 */
import { TASK_TYPES, type Solver, type TaskType } from '@solvebox/protocol';
import { resolve } from 'node:path';
import { ConfigError, type ServerConfig, type SolverBackend } from '../config.js';
import { NoSolver } from './solvers/none.js';
import { SandboxSolver } from './solvers/sandbox.js';
import { HumanSolver } from './solvers/human.js';
import type { HumanDesk } from '../storage/desk.js';

/** What operators can do with the OCR backend while it runs: see its model, load the model folder again. */
export interface OcrControl {
  readonly model: OcrModelStatus;
  reload(): Promise<OcrModelStatus>;
}

/** The OCR model in use, as ocr.json describes it (see @solvebox/ocr's ModelCard). */
export interface OcrModelStatus {
  readonly dir: string;
  readonly architecture?: string;
  readonly steps?: number;
  readonly madeAt: number;
  readonly loadedAt: number;
  readonly validation: Readonly<Record<string, number>>;
  /** An adapted model's accuracy per source before and after adapting. */
  readonly adapted?: { readonly before: Readonly<Record<string, number>>; readonly after: Readonly<Record<string, number>> };
}

/** The OCR backend's controls, when the solver has them (the real one does; test doubles need not). */
export function ocrControl(solver: Solver | undefined): OcrControl | undefined {
  return solver && 'reload' in solver && 'model' in solver ? (solver as Solver & OcrControl) : undefined;
}

/** Solver instances by backend name: started backends, or test doubles. */
export type Backends = Partial<Record<SolverBackend, Solver>>;

/**
 * The solver chain of each task type, per the `solvers` and `fallbacks` configuration: the
 * type's solver, then its fallback unless that is `none`. `backends` supplies instances by name (the OCR
 * pool, which must be started first; test doubles); the sandbox and `none` are built on demand.
 */
export function resolveChains(
  config: Pick<ServerConfig, 'solvers' | 'fallbacks'>,
  backends: Backends = {},
  only: readonly SolverBackend[] = [],
): Map<TaskType, Solver[]> {
  const instances = new Map<SolverBackend, Solver>();
  const instance = (backend: SolverBackend): Solver => {
    let solver = instances.get(backend) ?? backends[backend];
    if (!solver && (backend === 'ocr' || backend === 'human')) throw new ConfigError(`the ${backend} backend must be started before routes are resolved`);
    solver ??= backend === 'sandbox' ? new SandboxSolver() : new NoSolver();
    instances.set(backend, solver);
    return solver;
  };
  const chains = new Map<TaskType, Solver[]>();
  for (const type of routedTypes(config, only)) {
    const chain = [instance(config.solvers[type])];
    if (config.fallbacks[type] !== 'none' && config.fallbacks[type] !== config.solvers[type]) chain.push(instance(config.fallbacks[type]));
    for (const solver of chain) {
      if (!solver.types.includes(type)) throw new ConfigError(`solver "${solver.name}" does not handle ${type} tasks`);
    }
    chains.set(type, chain);
  }
  return chains;
}

/** The task types routed to one of `only`'s backends (all types when `only` is empty). */
export function routedTypes(config: Pick<ServerConfig, 'solvers'>, only: readonly SolverBackend[]): TaskType[] {
  return TASK_TYPES.filter((type) => only.length === 0 || only.includes(config.solvers[type]));
}

/**
 * The backends the routes use that need starting: the OCR worker pool, and the human solver on
 * this process's desk.
 */
export async function startBackends(
  config: ServerConfig,
  given: Backends = {},
  only: readonly SolverBackend[] = [],
  desk?: HumanDesk,
  clock?: () => number,
): Promise<Backends> {
  const used = new Set<SolverBackend>();
  for (const type of routedTypes(config, only)) {
    used.add(config.solvers[type]).add(config.fallbacks[type]);
  }
  if (used.has('human') && !given.human) {
    if (!desk) throw new ConfigError('the human backend needs the desk of its storage');
    given = { ...given, human: new HumanSolver({ desk, waitMs: config.humanWaitMs, ...(clock ? { clock } : {}) }) };
  }
  if (!used.has('ocr') || given.ocr) return given;
  // Loaded only here: onnxruntime and sharp stay out of processes whose routes name no ocr (an
  // API-only node, a sandbox-only server).
  const { OcrSolver } = await import('@solvebox/ocr');
  const ocr = await OcrSolver.start({
    ...(config.ocrWorkers > 0 ? { size: config.ocrWorkers } : {}),
    ...(config.ocrModel !== '' ? { modelDir: resolve(config.ocrModel) } : {}),
    minConfidence: config.ocrMinConfidence,
    secondLookBelow: config.ocrSecondLook,
  });
  return { ...given, ocr };
}
