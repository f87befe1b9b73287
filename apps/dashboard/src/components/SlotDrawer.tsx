// The slot drawer: everything about one slot and the actions that apply to it. The detail is
// fetched on open and again whenever the slot's state, run or attempt changes (not on every
// progress tick: the tile above already shows progress live).
import type { HostView, SlotDetailView, SlotView } from '@bench/events';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { messageOf, type ApiClient } from '../api/client';
import { availableActions, SLOT_ACTIONS, type SlotActionName } from '../state/actions';
import {
  clampPercent,
  formatAttempt,
  formatClock,
  formatEta,
  formatPercent,
  formatVersions,
} from '../state/presentation';
import { formatLastSeen } from '../state/hosts';
import { detailLagsBehind, deviceLogExcerpt, healthSeries, timeline } from '../state/slot-detail';
import { Icon } from './Icon';
import { Sparkline } from './Sparkline';
import { CableBadge, StateBadge } from './StateBadge';

export interface SlotDrawerProps {
  slot: SlotView;
  /** The slot's host as the server sees it (online or not). */
  host?: HostView;
  api: ApiClient;
  onClose: () => void;
}

type ActionStatus =
  { kind: 'busy'; action: SlotActionName } | { kind: 'ok' | 'error'; message: string } | null;

/** While the records lag behind the tile, the detail is read again this often, this many times. */
const CATCH_UP_MS = 1_000;
const MAX_CATCH_UPS = 15;

export function SlotDrawer({ slot, host, api, onClose }: SlotDrawerProps) {
  const [detail, setDetail] = useState<SlotDetailView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [status, setStatus] = useState<ActionStatus>(null);
  const [reloads, setReloads] = useState(0);
  // Stages change a dozen times a restore, progress hundreds: the timeline follows stages.
  const refreshKey = [slot.id, slot.state, slot.runId, slot.attempt, slot.stage, slot.paused].join('|');

  useEffect(() => {
    const controller = new AbortController();
    api('slot', { params: { slotId: slot.id }, signal: controller.signal })
      .then((next) => {
        setDetail(next);
        setLoadError(null);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoadError(messageOf(error));
      });
    return () => controller.abort();
  }, [api, refreshKey, reloads]);

  // The tile can say how a run ended before the recorder has written it: read again until the
  // detail agrees (a bounded number of times, for a recorder that is down).
  const [catchUps, setCatchUps] = useState(0);
  useEffect(() => setCatchUps(0), [refreshKey]);
  const lagging = detail !== null && detailLagsBehind(slot, detail);
  useEffect(() => {
    if (!lagging || catchUps >= MAX_CATCH_UPS) return undefined;
    const timer = setTimeout(() => {
      setCatchUps((count) => count + 1);
      setReloads((count) => count + 1);
    }, CATCH_UP_MS);
    return () => clearTimeout(timer);
  }, [lagging, catchUps, detail]);

  useEffect(() => setStatus(null), [slot.id]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const act = async (name: SlotActionName) => {
    const spec = SLOT_ACTIONS[name];
    const runId = slot.runId ?? detail?.run?.id;
    if (spec.byRun && !runId) return;
    setStatus({ kind: 'busy', action: name });
    try {
      await api(spec.route, { params: spec.byRun && runId ? { runId } : { slotId: slot.id }, body: {} });
      setStatus({ kind: 'ok', message: `${spec.label}: requested` });
      setReloads((count) => count + 1);
    } catch (error) {
      setStatus({ kind: 'error', message: messageOf(error) });
    }
  };

  const current = detail?.slot.id === slot.id ? detail : null;
  const percent = clampPercent(slot.percent);
  const logExcerpt = current ? deviceLogExcerpt(current) : '';
  return (
    <aside class="drawer" data-testid="slot-drawer" aria-label={`slot ${slot.label ?? slot.portPath}`}>
      <header class="drawer-head">
        <div>
          <h2>{slot.label ?? slot.portPath}</h2>
          <span class="muted">
            port {slot.portPath} · host {slot.hostId}
          </span>
        </div>
        <StateBadge state={slot.state} />
        <button class="close" data-testid="drawer-close" onClick={onClose} aria-label="close">
          ✕
        </button>
      </header>

      {host && !host.online && (
        <p class="drawer-host-offline" data-testid="drawer-host-offline" role="status">
          <Icon name="host-offline" /> Host {host.name} is offline,{' '}
          {formatLastSeen(host.lastSeenAt, Date.now())}. What you see is its last known state. Its run is kept
          and goes on when its agent is back; actions need the agent.
        </p>
      )}

      {slot.doNotUnplug && <div class="do-not-unplug">DO NOT UNPLUG</div>}

      <section class="drawer-actions" aria-label="actions">
        {availableActions(slot).map((name) => (
          <button
            key={name}
            class={`action action-${name}`}
            data-testid={`action-${name}`}
            disabled={status?.kind === 'busy'}
            onClick={() => void act(name)}
          >
            {SLOT_ACTIONS[name].label}
          </button>
        ))}
        {status && status.kind !== 'busy' && (
          <p class={`action-status ${status.kind}`} data-testid="action-status" role="status">
            {status.message}
          </p>
        )}
      </section>

      <dl class="drawer-facts">
        <Fact
          name="phone"
          value={[slot.productType, slot.ecid && `ECID ${slot.ecid}`].filter(Boolean).join(' · ')}
        />
        <Fact name="iOS" value={formatVersions(slot.fromVersion, slot.toVersion)} />
        <Fact
          name="stage"
          value={[
            slot.stage,
            formatPercent(percent),
            slot.etaSeconds !== undefined && `ETA ${formatEta(slot.etaSeconds)}`,
          ]
            .filter(Boolean)
            .join(' · ')}
        />
        <Fact name="attempt" value={formatAttempt(slot.attempt, slot.maxAttempts)} />
        <Fact
          name="battery"
          value={slot.batteryLevel !== undefined ? `${Math.round(slot.batteryLevel)}%` : ''}
        />
        <Fact name="link" value={slot.linkSpeedMbps !== undefined ? `${slot.linkSpeedMbps} Mbit/s` : ''} />
        <Fact name="detail" value={slot.detail ?? ''} />
        <Fact name="quarantine" value={slot.quarantineReason ?? ''} />
        <Fact name="DFU buttons" value={current?.dfuButtons ?? ''} />
        <Fact
          name="run"
          value={
            current?.run
              ? [
                  current.run.firmwareSelector,
                  current.run.behavior,
                  current.run.state,
                  current.run.failureClass,
                ]
                  .filter(Boolean)
                  .join(' · ')
              : ''
          }
        />
        {slot.cableScore !== undefined && (
          <Fact name="cable" value={`${Math.round(slot.cableScore)}/100`}>
            <CableBadge score={slot.cableScore} />
          </Fact>
        )}
      </dl>

      {loadError && <p class="error">Could not load the slot: {loadError}</p>}

      <section class="drawer-section" data-testid="drawer-attempts">
        <h3>Attempts</h3>
        {current?.run?.attempts.length ? (
          <ol class="attempts">
            {current.run.attempts.map((attempt) => (
              <li key={attempt.number} class={`attempt outcome-${attempt.outcome}`}>
                <div class="attempt-head">
                  <strong>#{attempt.number}</strong> {attempt.outcome}
                  {attempt.failureClass && <span class="failure-class">{attempt.failureClass}</span>}
                  <span class="muted">
                    {formatClock(attempt.startedAt)}
                    {attempt.lastStage && ` · last stage ${attempt.lastStage}`}
                    {attempt.startMode && ` · from ${attempt.startMode}`}
                  </span>
                </div>
                {attempt.message && <div>{attempt.message}</div>}
                {attempt.evidence && (
                  <dl class="evidence">
                    {attempt.evidence.stage && <Fact name="at stage" value={attempt.evidence.stage} />}
                    {attempt.evidence.statusCode !== undefined && (
                      <Fact name="status" value={String(attempt.evidence.statusCode)} />
                    )}
                    {attempt.evidence.lastDeviceMessage && (
                      <Fact name="device said" value={attempt.evidence.lastDeviceMessage} />
                    )}
                    {attempt.evidence.detail && <Fact name="detail" value={attempt.evidence.detail} />}
                  </dl>
                )}
              </li>
            ))}
          </ol>
        ) : (
          <p class="muted">{current ? 'No attempts on this slot’s current run.' : 'Loading…'}</p>
        )}
      </section>

      <section class="drawer-section">
        <h3>Health</h3>
        <Sparkline
          testId="drawer-sparkline"
          series={[
            {
              name: 'cable',
              colour: '#3fc165',
              values: current ? healthSeries(current.health, 'cableScore') : [],
            },
            {
              name: 'battery',
              colour: '#3aa3ff',
              values: current ? healthSeries(current.health, 'batteryLevel') : [],
            },
          ]}
        />
      </section>

      <section class="drawer-section">
        <h3>Device log</h3>
        <pre class="device-log" data-testid="drawer-device-log">
          {logExcerpt || 'No device log recorded.'}
        </pre>
      </section>

      <section class="drawer-section">
        <h3>Timeline</h3>
        <ol class="timeline" data-testid="drawer-timeline">
          {current && current.events.length === 0 && <li class="muted">No events recorded.</li>}
          {current &&
            timeline(current.events).map((entry) => (
              <li key={entry.id} class={`timeline-entry ${entry.severity}`}>
                <time>{formatClock(entry.at)}</time>
                <span class="timeline-kind">{entry.kind}</span>
                <span>{entry.summary}</span>
              </li>
            ))}
        </ol>
      </section>
    </aside>
  );
}

function Fact({
  name,
  value,
  children,
}: {
  name: string;
  value: string | undefined;
  children?: ComponentChildren;
}) {
  if (!value) return null;
  return (
    <div class="fact">
      <dt>{name}</dt>
      <dd>
        {value} {children}
      </dd>
    </div>
  );
}
