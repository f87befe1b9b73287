// A manager's new batch: a name, the firmware ("latest" or a build), erase or update, which
// benches, now or at a time (tonight at ten, say), and optionally a retry policy from
// bench.config.yaml. The form checks only what it can tell alone; the server's answer (an
// unknown build, a past time) is shown as it comes.
import type { BatchView, BenchView } from '@bench/events';
import { useEffect, useState } from 'preact/hooks';
import { messageOf, type ApiClient } from '../api/client';
import { batchRequest, emptyDraft, type BatchDraft } from '../state/batches';

export function BatchForm({
  api,
  benches,
  onCreated,
  onClose,
}: {
  api: ApiClient;
  benches: readonly BenchView[];
  onCreated: (batch: BatchView) => void;
  onClose: () => void;
}) {
  const [draft, setDraft] = useState<BatchDraft>(emptyDraft);
  const [policies, setPolicies] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    api('config', { signal: controller.signal })
      .then((config) => setPolicies(Object.keys(config.policies).sort()))
      // Without the list the batch uses each bench's own policy; nothing else is lost.
      .catch(() => undefined);
    return () => controller.abort();
  }, [api]);

  const set = <K extends keyof BatchDraft>(key: K, value: BatchDraft[K]) =>
    setDraft((current) => ({ ...current, [key]: value }));
  const toggleBench = (benchId: string, on: boolean) =>
    set('benchIds', on ? [...draft.benchIds, benchId] : draft.benchIds.filter((id) => id !== benchId));

  const submit = (event: Event) => {
    event.preventDefault();
    const result = batchRequest(draft);
    if ('error' in result) {
      setError(result.error);
      return;
    }
    setSending(true);
    api('createBatch', { body: result.request })
      .then((batch) => {
        setError(null);
        onCreated(batch);
      })
      .catch((failure: unknown) => setError(messageOf(failure)))
      .finally(() => setSending(false));
  };

  return (
    <form class="batch-form" data-testid="batch-form" onSubmit={submit}>
      <TextField
        label="Name"
        name="name"
        value={draft.name}
        placeholder="Rack 3 overnight"
        onInput={(value) => set('name', value)}
      />
      <TextField
        label="Firmware"
        name="firmware"
        value={draft.firmware}
        title='"latest" (newest signed for each model) or a build such as 22G100'
        onInput={(value) => set('firmware', value)}
      />
      <label>
        Restore
        <select
          name="behavior"
          value={draft.behavior}
          onChange={(e) => set('behavior', e.currentTarget.value === 'update' ? 'update' : 'erase')}
        >
          <option value="erase">erase</option>
          <option value="update">update (keep data)</option>
        </select>
      </label>
      <fieldset>
        <legend>Benches</legend>
        {benches.length === 0 && <p class="muted">No benches on the floor.</p>}
        {benches.map((bench) => (
          <label key={bench.id} class="check">
            <input
              type="checkbox"
              name="bench"
              value={bench.id}
              checked={draft.benchIds.includes(bench.id)}
              onChange={(e) => toggleBench(bench.id, e.currentTarget.checked)}
            />
            {bench.name} <span class="muted">({bench.hostId})</span>
          </label>
        ))}
      </fieldset>
      <label>
        Start
        <input
          type="datetime-local"
          name="startAt"
          value={draft.startAt}
          onInput={(e) => set('startAt', e.currentTarget.value)}
        />
        <span class="muted">empty: now</span>
      </label>
      {policies.length > 0 && (
        <label>
          Retry policy
          <select name="policy" value={draft.policy} onChange={(e) => set('policy', e.currentTarget.value)}>
            <option value="">each bench's own</option>
            {policies.map((policy) => (
              <option key={policy} value={policy}>
                {policy}
              </option>
            ))}
          </select>
        </label>
      )}
      {error && (
        <p class="error" data-testid="batch-form-error">
          {error}
        </p>
      )}
      <div class="form-buttons">
        <button type="submit" disabled={sending} data-testid="batch-create">
          {draft.startAt ? 'Schedule' : 'Start now'}
        </button>
        <button type="button" class="link" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}

function TextField({
  label,
  onInput,
  ...input
}: {
  label: string;
  name: string;
  value: string;
  placeholder?: string;
  title?: string;
  onInput: (value: string) => void;
}) {
  return (
    <label>
      {label}
      <input {...input} onInput={(e) => onInput(e.currentTarget.value)} />
    </label>
  );
}
