import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, type Me } from './api.js';

export function Login({ onLogin }: { onLogin: (me: Me) => void }) {
  const [error, setError] = useState('');
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    try {
      onLogin(await api<Me>('/api/login', { name: form.get('name'), password: form.get('password') }));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`
    <form class="login card" onSubmit=${submit}>
      <h1>Solvebox console</h1>
      <label>Operator <input name="name" autocomplete="username" required autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <button type="submit">Log in</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  `;
}
