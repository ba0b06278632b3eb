/**
 * The dashboard (admins): queues, throughput, latency, the OCR decline rate, accuracy per solver
 * and operator, accounts, bans, the audit log and health, refreshed every two seconds.
 */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from './api.js';

interface Overview {
  readonly now: number;
  readonly queues: Record<string, { queued: number; active: number }>;
  readonly routes: Record<string, { solver: string; fallbacks: string[] }>;
  readonly desk: { waiting: Record<string, number>; leased: number };
  readonly online: string[];
  readonly perMinute: { minute: number; solved: number; failed: number }[];
  readonly latency: { p50: number | null; p95: number | null; count: number };
  readonly ocr: { declined: number; read: number; declineRate: number | null };
  readonly solvers: {
    solver: string;
    solved: number;
    failed: number;
    declined: number;
    chargedMicros: number;
    reportedGood: number;
    reportedBad: number;
    accuracy: number | null;
  }[];
  readonly ocrModel: {
    dir: string;
    architecture?: string;
    steps?: number;
    madeAt: number;
    loadedAt: number;
    validation: Record<string, number>;
    adapted?: { before: Record<string, number>; after: Record<string, number> };
  } | null;
  readonly health: {
    status: string;
    storage: { kind: string; ok: boolean; latencyMs?: number; error?: string };
    solvers: { types: string[]; failing: string[] };
    relay?: {
      upstreams: {
        name: string;
        url: string;
        dialect: string;
        types: string[];
        priority: number;
        circuit: string;
        inFlight: number;
        concurrency: number;
        spentToday: number;
        dailyBudget: number;
      }[];
    };
  };
}
interface AccountRow {
  readonly id: number;
  readonly keyHint: string;
  readonly threads: number;
  readonly balance: string;
  readonly disabled: boolean;
}
interface Ban {
  readonly ip: string;
  readonly until: number;
}
interface AuditEntry {
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly detail?: string;
}

const percent = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const seconds = (x: number | null) => (x === null ? '–' : x < 1 ? `${Math.round(x * 1000)} ms` : `${x.toFixed(1)} s`);
const time = (ms: number) => new Date(ms).toLocaleTimeString();

export function Dashboard() {
  const [overview, setOverview] = useState<Overview | null>(null);
  const [accounts, setAccounts] = useState<AccountRow[]>([]);
  const [bans, setBans] = useState<Ban[]>([]);
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [error, setError] = useState('');
  const [newKey, setNewKey] = useState('');

  const refresh = async () => {
    try {
      const [o, a, b, l] = await Promise.all([
        api<Overview>('/api/admin/overview'),
        api<AccountRow[]>('/api/admin/accounts'),
        api<Ban[]>('/api/admin/bans'),
        api<AuditEntry[]>('/api/admin/audit'),
      ]);
      setOverview(o);
      setAccounts(a);
      setBans(b);
      setAudit(l);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => {
    void refresh();
    const timer = setInterval(refresh, 2000);
    return () => clearInterval(timer);
  }, []);

  const act = async (path: string, body: unknown) => {
    try {
      const result = await api<{ key?: string }>(path, body);
      if (result.key) setNewKey(result.key);
      await refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (!overview) return html`<section class="dashboard"><p class="muted">Loading…</p>${error && html`<p class="error">${error}</p>`}</section>`;
  const types = [...new Set([...Object.keys(overview.queues), ...Object.keys(overview.desk.waiting)])].sort();
  const lastMinute = overview.perMinute[overview.perMinute.length - 1];
  return html`<section class="dashboard">
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="tiles">
      <div class="tile"><span class="label">Solved, last minute</span><span class="value" data-testid="solved-last-minute">${lastMinute?.solved ?? 0}</span></div>
      <div class="tile"><span class="label">Latency p50 / p95</span><span class="value">${seconds(overview.latency.p50)} / ${seconds(overview.latency.p95)}</span></div>
      <div class="tile"><span class="label">OCR decline rate (15 min)</span><span class="value">${percent(overview.ocr.declineRate)}</span></div>
      <div class="tile"><span class="label">Operators online</span><span class="value" data-testid="operators-online">${overview.online.length}</span></div>
      <div class="tile"><span class="label">Storage</span><span class=${overview.health.storage.ok ? 'value ok' : 'value bad'}>${overview.health.storage.kind} ${overview.health.storage.ok ? `${overview.health.storage.latencyMs ?? 0} ms` : 'down'}</span></div>
      <div class="tile"><span class="label">Failing solvers</span><span class=${overview.health.solvers.failing.length ? 'value bad' : 'value ok'}>${overview.health.solvers.failing.join(', ') || 'none'}</span></div>
    </div>

    ${
      overview.ocrModel &&
      html`<h2>OCR model</h2>
      <p data-testid="ocr-model">
        <code>${overview.ocrModel.dir}</code>${overview.ocrModel.architecture ? ` (${overview.ocrModel.architecture}, ${overview.ocrModel.steps ?? '?'} steps)` : ''}, made
        ${new Date(overview.ocrModel.madeAt).toLocaleString()}, loaded ${new Date(overview.ocrModel.loadedAt).toLocaleTimeString()}
        <button type="button" onClick=${() => act('/api/admin/ocr/reload', {})}>Reload</button>
      </p>
      ${
        overview.ocrModel.adapted &&
        html`<p data-testid="ocr-adapted">
        Adapted: ${Object.keys(overview.ocrModel.adapted.after)
          .map(
            (source) =>
              `${source} ${((overview.ocrModel?.adapted?.before[source] ?? 0) * 100).toFixed(1)} → ${((overview.ocrModel?.adapted?.after[source] ?? 0) * 100).toFixed(1)} %`,
          )
          .join(' · ')}
      </p>`
      }
      <p class="muted">
        Validation when made:
        ${Object.entries(overview.ocrModel.validation)
          .map(([source, accuracy]) => `${source} ${(accuracy * 100).toFixed(1)} %`)
          .join(' · ')}
      </p>`
    }

    <h2>Tasks per minute</h2>
    <${Chart} perMinute=${overview.perMinute} />

    <h2>Queues</h2>
    <table data-testid="queues">
      <thead><tr><th>Type</th><th>Solver → fallback</th><th>Queued</th><th>Being solved</th><th>Waiting for a person</th></tr></thead>
      <tbody>
        ${types.length === 0 && html`<tr><td colspan="5" class="muted">No unfinished tasks</td></tr>`}
        ${types.map(
          (type) => html`<tr data-type=${type}>
            <td>${type}</td>
            <td>${[overview.routes[type]?.solver ?? '', ...(overview.routes[type]?.fallbacks ?? [])].join(' → ')}</td>
            <td>${overview.queues[type]?.queued ?? 0}</td>
            <td>${overview.queues[type]?.active ?? 0}</td>
            <td>${overview.desk.waiting[type] ?? 0}</td>
          </tr>`,
        )}
      </tbody>
    </table>

    ${
      overview.health.relay &&
      html`<h2>Upstreams</h2>
        <table data-testid="upstreams">
          <thead><tr><th>Upstream</th><th>Types</th><th>Circuit</th><th>In flight</th><th>Spent today</th></tr></thead>
          <tbody>
            ${overview.health.relay.upstreams.map(
              (u) => html`<tr data-upstream=${u.name}>
                <td>${u.name} <span class="muted">${u.dialect} ${u.url}</span></td>
                <td>${u.types.join(', ')}</td>
                <td>${u.circuit}</td>
                <td>${u.inFlight}${u.concurrency > 0 ? ` / ${u.concurrency}` : ''}</td>
                <td>$${u.spentToday.toFixed(4)}${u.dailyBudget > 0 ? ` of $${u.dailyBudget.toFixed(2)}` : ''}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
    }

    <h2>Solvers and operators</h2>
    <table data-testid="solvers">
      <thead><tr><th>Solver</th><th>Solved</th><th>Failed</th><th>Declined</th><th>Charged</th><th>Reported good / bad</th><th>Accuracy</th></tr></thead>
      <tbody>
        ${overview.solvers.map(
          (s) => html`<tr data-solver=${s.solver}>
            <td>${s.solver}</td><td>${s.solved}</td><td>${s.failed}</td><td>${s.declined}</td><td>$${(s.chargedMicros / 1e6).toFixed(4)}</td>
            <td>${s.reportedGood} / ${s.reportedBad}</td><td>${percent(s.accuracy)}</td>
          </tr>`,
        )}
      </tbody>
    </table>

    <h2>Accounts</h2>
    <form
      class="inline"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        const form = new FormData(e.target as HTMLFormElement);
        void act('/api/admin/accounts', { threads: Number(form.get('threads')), balance: String(form.get('balance')) });
      }}
    >
      <label>Threads <input name="threads" type="number" min="0" value="5" /></label>
      <label>Balance <input name="balance" value="0" /></label>
      <button type="submit">Create account</button>
    </form>
    ${newKey && html`<p class="notice">New API key, shown once: <code data-testid="new-key">${newKey}</code></p>`}
    <table data-testid="accounts">
      <thead><tr><th>Id</th><th>Key</th><th>Threads</th><th>Balance</th><th>State</th><th></th></tr></thead>
      <tbody>
        ${accounts.map(
          (a) => html`<tr data-account=${a.id}>
            <td>${a.id}</td><td><code>${a.keyHint}</code></td>
            <td>
              <input
                class="narrow"
                type="number"
                min="0"
                value=${a.threads}
                aria-label="threads"
                onChange=${(e: Event) => act(`/api/admin/accounts/${a.id}`, { threads: Number((e.target as HTMLInputElement).value) })}
              />
            </td>
            <td>${a.balance}</td>
            <td>${a.disabled ? 'disabled' : 'active'}</td>
            <td>
              <form
                class="inline"
                onSubmit=${(e: Event) => {
                  e.preventDefault();
                  const form = e.target as HTMLFormElement;
                  void act(`/api/admin/accounts/${a.id}`, { credit: String(new FormData(form).get('credit')) });
                  form.reset();
                }}
              >
                <input class="narrow" name="credit" placeholder="±0.00" aria-label="credit" required />
                <button type="submit">Credit</button>
                <button type="button" onClick=${() => act(`/api/admin/accounts/${a.id}`, { disabled: !a.disabled })}>${a.disabled ? 'Enable' : 'Disable'}</button>
              </form>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>

    <h2>Banned addresses</h2>
    <table data-testid="bans">
      <thead><tr><th>Address</th><th>Until</th><th></th></tr></thead>
      <tbody>
        ${bans.length === 0 && html`<tr><td colspan="3" class="muted">None</td></tr>`}
        ${bans.map(
          (b) => html`<tr data-ip=${b.ip}>
            <td>${b.ip}</td><td>${time(b.until)}</td>
            <td><button type="button" onClick=${() => act(`/api/admin/bans/${encodeURIComponent(b.ip)}/lift`, {})}>Lift</button></td>
          </tr>`,
        )}
      </tbody>
    </table>

    <h2>Audit log</h2>
    <table data-testid="audit">
      <thead><tr><th>When</th><th>Who</th><th>What</th><th>On</th><th>Detail</th></tr></thead>
      <tbody>
        ${audit.map((e) => html`<tr><td>${time(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.target}</td><td>${e.detail ?? ''}</td></tr>`)}
      </tbody>
    </table>
  </section>`;
}

function Chart({ perMinute }: { perMinute: Overview['perMinute'] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data: uPlot.AlignedData = [perMinute.map((m) => m.minute / 1000), perMinute.map((m) => m.solved), perMinute.map((m) => m.failed)];
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        width: Math.min(900, box.current.clientWidth || 900),
        height: 220,
        series: [{}, { label: 'solved', stroke: '#1b7f3b', width: 2 }, { label: 'failed', stroke: '#b3261e', width: 2 }],
        axes: [{}, { label: 'tasks' }],
      },
      data,
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data), [perMinute]);
  return html`<div class="chart" ref=${box}></div>`;
}
