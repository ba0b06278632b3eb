/**
 * The command table; bin.ts dispatches on it and prints it as help. A command's module is loaded
 * only when it runs: `solvebox --help` loads none, and the client commands never load the server
 * (fastify, storage drivers, the OCR engine).
 */
import type { CommandEntry } from '../command.js';

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    usage: 'serve [--port P] [--db F | --redis URL] ...',
    summary: 'Run the in.php / res.php server',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'worker',
    usage: 'worker --redis URL [--solvers ocr,...]',
    summary: 'Solve tasks from a Redis deployment (scale-out)',
    load: async () => (await import('./worker.js')).workerCommand,
  },
  {
    name: 'keys',
    usage: 'keys create|list|disable|enable ...',
    summary: 'Manage API keys (accounts)',
    load: async () => (await import('./keys.js')).keysCommand,
  },
  {
    name: 'operators',
    usage: 'operators create|list|disable|enable ...',
    summary: 'Manage console operators (the people who solve and run the service)',
    load: async () => (await import('./operators.js')).operatorsCommand,
  },
  {
    name: 'ocr',
    usage: 'ocr adapt [--out DIR] [--minutes N] | ocr rollback | ocr samples list|add DIR|export DIR|purge',
    summary: "Adapt the OCR model to the deployment's captchas from the confirmed answers it keeps",
    load: async () => (await import('./ocr.js')).ocrCommand,
  },
  { name: 'stats', usage: 'stats [--json]', summary: 'Per-solver counts and reported accuracy', load: async () => (await import('./stats.js')).statsCommand },
  {
    name: 'solve',
    usage: 'solve <type> ...',
    summary: 'Solve a captcha: image, recaptcha-v2, recaptcha-v3, turnstile, cloudflare-challenge, geetest, bls',
    load: async () => (await import('./solve.js')).solveCommand,
  },
  {
    name: 'result',
    usage: 'result ID [--wait]',
    summary: "Print a task's answer; exit code 10 while it is not ready, unless --wait",
    load: async () => (await import('./account.js')).resultCommand,
  },
  { name: 'balance', usage: 'balance', summary: 'Print the account balance', load: async () => (await import('./account.js')).balanceCommand },
  {
    name: 'report',
    usage: 'report ID good|bad',
    summary: "Report a task's answer as correct or wrong",
    load: async () => (await import('./account.js')).reportCommand,
  },
];
