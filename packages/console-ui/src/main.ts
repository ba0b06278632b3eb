/**
 * The console app: the login, the solve view (every operator) and the dashboard (admins). Every
 * piece of text that came from a client or the server is rendered by Preact as text, never as
 * markup, and the page's Content-Security-Policy allows no inline script.
 */
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, rememberCsrf, type Me } from './api.js';
import { Dashboard } from './dashboard.js';
import { Login } from './login.js';
import { SolveView } from './solve.js';

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [path, setPath] = useState(location.pathname);

  useEffect(() => {
    api<Me>('/api/me').then(
      (found) => {
        rememberCsrf(found.csrf);
        setMe(found);
      },
      () => setMe(null),
    );
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const go = (to: string) => {
    history.pushState(null, '', to);
    setPath(to);
  };
  const logout = async () => {
    await api('/api/logout', {}).catch(() => {});
    setMe(null);
    go('/');
  };

  if (me === undefined) return html`<p class="muted">Loading…</p>`;
  if (me === null) {
    return html`<${Login}
      onLogin=${(found: Me) => {
        rememberCsrf(found.csrf);
        setMe(found);
        go(found.role === 'admin' && path === '/dashboard' ? '/dashboard' : '/solve');
      }}
    />`;
  }
  const page = path === '/dashboard' && me.role === 'admin' ? 'dashboard' : 'solve';
  return html`
    <header class="bar">
      <strong>Solvebox</strong>
      <nav>
        <a href="/solve" class=${page === 'solve' ? 'here' : ''} onClick=${(e: Event) => (e.preventDefault(), go('/solve'))}>Solve</a>
        ${me.role === 'admin' && html`<a href="/dashboard" class=${page === 'dashboard' ? 'here' : ''} onClick=${(e: Event) => (e.preventDefault(), go('/dashboard'))}>Dashboard</a>`}
      </nav>
      <span class="who">${me.name} (${me.role})</span>
      <button type="button" class="link" onClick=${logout}>Log out</button>
    </header>
    ${page === 'dashboard' ? html`<${Dashboard} />` : html`<${SolveView} />`}
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
