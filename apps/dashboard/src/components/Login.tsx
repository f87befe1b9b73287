// The login screen. A wall screen logs in once: the session is kept in localStorage.
import type { LoginResponse } from '@bench/events';
import { useState } from 'preact/hooks';
import { messageOf, type ApiClient } from '../api/client';

export function Login({ api, onLoggedIn }: { api: ApiClient; onLoggedIn: (login: LoginResponse) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await api('login', { body: { username, password } }));
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-form" onSubmit={(event) => void submit(event)}>
        <h1>bench</h1>
        <p class="muted">shop floor</p>
        <label>
          Username
          <input
            data-testid="login-username"
            name="username"
            autocomplete="username"
            value={username}
            onInput={(event) => setUsername(event.currentTarget.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            data-testid="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
            required
          />
        </label>
        {error && (
          <p class="error" data-testid="login-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" data-testid="login-submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
