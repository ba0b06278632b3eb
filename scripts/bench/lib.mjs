/**
 * What the benchmarks share: pinning, starting servers, the load generator, and the paired
 * design that turns noisy absolute figures into stable ratios (see ../../docs/performance.md).
 *
 * - Pinning: on a machine with `taskset`, servers (and Redis) run on core 0, this runner and the
 *   load generator on core 1. Unpinned figures on 2 cores are erratic.
 * - Load generator: wrk (Debian's `wrk`, installed with apt when missing and possible), else
 *   autocannon from npm. wrk leaves headroom on its core; autocannon saturates its own core near
 *   the bare server's rate, which flatters ratios close to 1 (docs/performance.md says by how much).
 * - Paired windows: the bare node:http server and the case alternate in short windows; the ratio
 *   is taken per pair and the median over pairs reported, so a machine that changes speed moves
 *   both sides of a ratio.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../packages/cli/bin/solvebox.js', import.meta.url));
export const PINNED = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
if (PINNED) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

const children = [];
export const workDir = mkdtempSync(join(tmpdir(), 'solvebox-bench-'));
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

const onServerCore = (command, args) => (PINNED ? ['taskset', ['-c', '0', command, ...args]] : [command, args]);

/** wrk when it is installed or apt can install it; else autocannon. `prefer` forces one. */
export function pickTool(prefer) {
  if (prefer === 'autocannon') return 'autocannon';
  const has = () => spawnSync('wrk', ['--version']).error === undefined;
  if (!has() && process.getuid?.() === 0) {
    console.error('installing wrk with apt…');
    spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (has()) return 'wrk';
  if (prefer === 'wrk') throw new Error('wrk is not installed and could not be installed (apt-get install wrk)');
  return 'autocannon';
}

/** Starts a process on the server core and resolves with the URL its "listening on" line names. */
export function launch(command, args, env = {}) {
  [command, args] = onServerCore(command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SOLVEBOX_LOG_LEVEL: 'error', SOLVEBOX_CONSOLE_PORT: '0', ...env },
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ url: match[1], pid: child.pid, child });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
}

export const solvebox = (args, env) => launch(process.execPath, [BIN, ...args], env);

/** The ceiling: a bare node:http server answering a fixed small JSON body. */
export function startBare() {
  const source = `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":1,"request":"abc"}'); }); }).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });`;
  return launch(process.execPath, ['-e', source]);
}

export function cli(args) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`solvebox ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Resident memory of a process, in MB (Linux). */
export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/**
 * One load window: `request` ({ path, method, headers, bodies? }) against `url` for `seconds`, with
 * `connections` keep-alive connections. Returns req/s, p50 and p99 in ms, and failed requests.
 */
export async function load(tool, url, request, { seconds, connections }) {
  return tool === 'wrk' ? wrk(url, request, seconds, connections) : autocannonLoad(url, request, seconds, connections);
}

let scriptCount = 0;
function wrk(url, request, seconds, connections) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  if (request.method === 'POST') {
    // The bodies are sent in turn (several accounts, as several clients would be).
    const n = scriptCount++;
    const bodies = request.bodies.map((body, i) => {
      const file = join(workDir, `body-${n}-${i}`);
      writeFileSync(file, body);
      return file;
    });
    const headers = Object.entries(request.headers ?? {})
      .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
      .join('\n');
    const script = join(workDir, `post-${n}.lua`);
    writeFileSync(
      script,
      `wrk.method = "POST"\n${headers}\nlocal bodies = {}\nfor _, name in ipairs({${bodies.map((b) => JSON.stringify(b)).join(', ')}}) do\n  local f = io.open(name, "rb")\n  bodies[#bodies + 1] = f:read("*a")\n  f:close()\nend\nlocal i = 0\nrequest = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, nil, nil, bodies[i])\nend\n`,
    );
    args.push('-s', script);
  }
  args.push(url + request.path);
  const [command, fullArgs] = PINNED ? ['taskset', ['-c', '1', 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      const pct = (p) => toMs(new RegExp(`^\\s+${p}%\\s+([\\d.]+\\w+)`, 'm').exec(out)?.[1]);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0;
      resolve({ rps, p50: pct(50), p99: pct(99), bad: non2xx + errors });
    });
  });
}

function toMs(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
}

async function autocannonLoad(url, request, seconds, connections) {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    const requests = request.bodies?.map((body) => ({ method: request.method, path: request.path, headers: request.headers, body }));
    autocannon(
      { url: url + request.path, method: request.method, headers: request.headers, ...(requests ? { requests } : {}), connections, duration: seconds },
      (err, r) => (err ? reject(err) : resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts })),
    );
  });
}

/**
 * The paired comparison of one case against the bare server: a warm-up window of each, then
 * `pairs` pairs in alternating order. `bare` and `target` are { url, processes: { name: pid } }.
 * Returns the median ratio and the case's median figures, its CPU per request among them.
 */
export async function compare(tool, name, bare, target, request, options, baseRequest = BARE_REQUEST) {
  await measured(tool, bare, baseRequest, options);
  const warm = await measured(tool, target, request, options);
  const pairs = [];
  for (let i = 0; i < options.pairs; i++) {
    let base;
    let x;
    if (i % 2 === 0) {
      base = await measured(tool, bare, baseRequest, options);
      x = await measured(tool, target, request, options);
    } else {
      x = await measured(tool, target, request, options);
      base = await measured(tool, bare, baseRequest, options);
    }
    pairs.push({ ratio: x.rps / base.rps, x, base });
  }
  const cpu = Object.fromEntries(Object.keys(target.processes ?? {}).map((name) => [name, median(pairs.map((p) => p.x.cpu[name]))]));
  const row = {
    case: name,
    ratio: median(pairs.map((p) => p.ratio)),
    rps: median(pairs.map((p) => p.x.rps)),
    p50: median(pairs.map((p) => p.x.p50)),
    p99: median(pairs.map((p) => p.x.p99)),
    bareRps: median(pairs.map((p) => p.base.rps)),
    ratios: pairs.map((p) => p.ratio),
    failed: pairs.reduce((s, p) => s + p.x.bad, 0),
    /** Median CPU per request, µs, by process (all its threads, user and system time). */
    cpu,
    cpuTotal: median(pairs.map((p) => sum(Object.values(p.x.cpu)))),
    bareCpu: median(pairs.map((p) => sum(Object.values(p.base.cpu)))),
    /** Requests the case served in all its windows, the warm-up's included (for profiles). */
    served: (warm.rps + pairs.reduce((s, p) => s + p.x.rps, 0)) * options.seconds,
  };
  const split =
    Object.keys(cpu).length > 1
      ? ` (${Object.entries(cpu)
          .map(([name, us]) => `${name} ${us.toFixed(1)}`)
          .join(', ')})`
      : '';
  console.error(
    `${name}: ratio ${row.ratio.toFixed(2)} (pairs ${row.ratios.map((r) => r.toFixed(2)).join(' ')}), ${Math.round(row.rps)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms; ` +
      `CPU per request ${row.cpuTotal.toFixed(1)} µs${split}, bare ${row.bareCpu.toFixed(1)} µs`,
  );
  return row;
}

const sum = (xs) => xs.reduce((s, x) => s + x, 0);

/**
 * One load window against `target` ({ url, processes: { name: pid } }), with the CPU time each of
 * its processes spent per request: where a case's cost went (the server, Redis), and what a bare
 * answer cost in the same pair of windows. The ratio says how a case compares with the machine's
 * ceiling; these say why, and show when the ceiling moved and the case did not.
 */
async function measured(tool, target, request, options) {
  const processes = Object.entries(target.processes ?? {});
  const before = processes.map(([, pid]) => cpuMicros(pid));
  const result = await load(tool, target.url, request, options);
  const requests = result.rps * options.seconds;
  result.cpu = Object.fromEntries(processes.map(([name, pid], i) => [name, (cpuMicros(pid) - before[i]) / requests]));
  return result;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU time a process has used so far, user and system, all its threads, in µs (Linux /proc). */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name's closing parenthesis, from field 3 (state): utime is field 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/** What the bare server is asked in every window: the poll's URL shape, which it ignores. */
export const BARE_REQUEST = { method: 'GET', path: '/res.php?key=k0000000000000000000000000000042&action=get&id=4242&json=1' };

/** Replaces the block between `<!-- name -->` and `<!-- /name -->` in docs/performance.md. */
export function writeDocsBlock(name, markdown) {
  const file = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/performance.md has no ${start} … ${end} block`);
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${markdown.trim()}\n${text.slice(to)}`);
}

export function machineLine(tool, options) {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)}, ${cpu}, Node ${process.version}, ${tool}, ${options.connections} connections, ${options.pairs} pairs of ${options.seconds} s windows, ${PINNED ? 'servers on core 0 and the load generator on core 1 (taskset)' : 'not pinned (no taskset)'}`;
}

/**
 * Exactly `amount` requests (autocannon; wrk bounds time, not count), cycling through `requests`
 * ({ method, path, headers, body }), stopped after `maxSeconds` whatever the count.
 */
export async function loadCount(url, requests, { amount, connections, maxSeconds }) {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, requests, amount, connections }, (err, r) =>
      err ? reject(err) : resolve({ sent: r.requests.sent, rps: r.requests.average, failed: r.non2xx + r.errors + r.timeouts }),
    );
    const timer = setTimeout(() => instance.stop(), maxSeconds * 1000);
    instance.on('done', () => clearTimeout(timer));
  });
}

/** Moves the redis-server listening on `port` (started by the testing helper) to the server core. */
/** Pins the redis-server listening on `port` to the server core; returns its pid. */
export function pinRedis(port) {
  const pid = Number(spawnSync('pgrep', ['-f', `redis-server.*:${port}`], { encoding: 'utf8' }).stdout.split('\n')[0]);
  if (PINNED && pid) spawnSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
  return pid;
}
