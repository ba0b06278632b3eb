#!/usr/bin/env node
/**
 * Where a server's CPU went, from a V8 profile (`node --cpu-prof`): CPU per request, by origin
 * (this project's files, each dependency, Node's internals, native code, GC) and the functions
 * with the most self time.
 *
 *   node scripts/bench/profile-summary.mjs DIR_OR_FILE [--requests N] [--top 20]
 *
 * Without `--requests` the figures are shares of the CPU time, not time per request.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The newest .cpuprofile in `path` (or `path` itself). */
function profileFile(path) {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  return files[0];
}

/** Names the origin of a frame: a project package's file, a dependency, Node, native or V8. */
function origin(frame) {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep && !/node_modules\/@solvebox\//.test(url)) return dep[1];
  const own = /packages\/([^/]+)\/(?:dist|src)\/(.+?)\.[cm]?js$/.exec(url);
  return own ? `${own[1]}: ${own[2]}` : url;
}

/**
 * Summarizes one profile. `requests` served during it turns times into µs per request.
 * Returns the text to print.
 */
export function summarizeProfile(path, requests, top = 20) {
  const file = profileFile(path);
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let busy = 0;
  const byOrigin = new Map();
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id).callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += us;
    const where = origin(frame);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const per = (us) => (requests ? `${(us / requests).toFixed(1)} µs` : `${((100 * us) / busy).toFixed(1)} %`);
  const share = (us) => `${((100 * us) / busy).toFixed(1)} %`;
  const rows = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `  ${per(us).padStart(9)}  ${share(us).padStart(7)}  ${name}`);
  return [
    `${file}: ${(busy / 1e6).toFixed(2)} s of CPU${requests ? ` for ${Math.round(requests)} requests, ${per(busy)} per request` : ''}`,
    ' by origin:',
    ...rows(byOrigin, 14),
    ` top ${top} functions by self time:`,
    ...rows(byFunction, top),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { requests: { type: 'string', default: '' }, top: { type: 'string', default: '20' } },
  });
  console.log(summarizeProfile(positionals[0], Number(values.requests) || undefined, Number(values.top)));
}
