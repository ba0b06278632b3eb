/**
 * Solver chains: for each task type, its solver, then its fallback, per the `solvers` and
 * `fallbacks` configuration; and the backends those chains need started (the OCR pool, loaded only
 * when a chain names it).
 */
import { TASK_TYPES, type Solver, type TaskType } from '@solvebox/protocol';
import { resolve } from 'node:path';
import { backendKind, ConfigError, type ServerConfig, type SolverBackend } from '../config.js';
import { NoSolver } from './solvers/none.js';
import { SandboxSolver } from './solvers/sandbox.js';
import { HumanSolver } from './solvers/human.js';
import type { HumanDesk } from '../storage/desk.js';
import type { Relay } from './relay/relay.js';

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

/** Solver instances by backend name: started backends, or test doubles; `relay` makes the `relay` and `relay:NAME` solvers. */
export type Backends = Partial<Record<'ocr' | 'human' | 'sandbox' | 'none', Solver>> & { readonly relay?: Relay };

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
    let solver = instances.get(backend);
    if (solver) return solver;
    const kind = backendKind(backend);
    if (kind === 'relay') {
      if (!backends.relay) throw new ConfigError(`the ${backend} backend needs --upstreams`);
      try {
        solver = backends.relay.solver(backend === 'relay' ? undefined : backend.slice('relay:'.length));
      } catch (err) {
        throw new ConfigError(`--solvers/--fallbacks: ${(err as Error).message}`);
      }
    } else {
      solver = backends[kind];
      if (!solver && (kind === 'ocr' || kind === 'human')) throw new ConfigError(`the ${kind} backend must be started before routes are resolved`);
      solver ??= kind === 'sandbox' ? new SandboxSolver() : new NoSolver();
    }
    instances.set(backend, solver);
    return solver;
  };
  const chains = new Map<TaskType, Solver[]>();
  for (const type of routedTypes(config, only)) {
    const names = [...new Set([config.solvers[type], ...config.fallbacks[type]])].filter((b, i) => i === 0 || b !== 'none');
    const chain = names.map(instance);
    for (const solver of chain) {
      if (!solver.types.includes(type)) throw new ConfigError(`solver "${solver.name}" does not handle ${type} tasks`);
    }
    chains.set(type, chain);
  }
  return chains;
}

/** The task types routed to one of `only`'s backends (all types when `only` is empty); `relay` stands for every `relay:NAME` too. */
export function routedTypes(config: Pick<ServerConfig, 'solvers'>, only: readonly SolverBackend[]): TaskType[] {
  return TASK_TYPES.filter((type) => {
    const backend = config.solvers[type];
    return only.length === 0 || only.includes(backend) || only.includes(backendKind(backend));
  });
}

/**
 * The backends the routes use that need starting: the OCR worker pool, and the human solver on
 * this process's desk. The relay comes built (openRelay), since the API side forwards reports with it.
 */
export async function startBackends(
  config: ServerConfig,
  given: Backends = {},
  only: readonly SolverBackend[] = [],
  desk?: HumanDesk,
  clock?: () => number,
): Promise<Backends> {
  const used = new Set<string>();
  for (const type of routedTypes(config, only)) {
    for (const backend of [config.solvers[type], ...config.fallbacks[type]]) used.add(backendKind(backend));
  }
  if (used.has('relay') && !given.relay) throw new ConfigError('the relay backend needs --upstreams FILE (see docs/relay.md)');
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
