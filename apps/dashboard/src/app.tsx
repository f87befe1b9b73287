// The dashboard: login, then the live floor. State lives in pure reducers (src/state); this file
// wires them to the REST client and the socket.
import type { AlertMessage } from '@bench/events';
import { API_ROUTES, roleAllows } from '@bench/events';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { createApiClient, messageOf, type ApiClient } from './api/client';
import { clearSession, loadSession, saveSession, type Session } from './api/session';
import { useBenchSocket } from './api/socket';
import { Alerts } from './components/Alerts';
import { Floor } from './components/Floor';
import { Header } from './components/Header';
import { Login } from './components/Login';
import { SlotDrawer } from './components/SlotDrawer';
import { Summary } from './components/Summary';
import { addAlert, dismissAlert, pruneResolvedAlerts } from './state/alerts';
import { createBatcher, nextFrame } from './state/batcher';
import { countByState, EMPTY_FLOOR, floorReducer, type FloorAction } from './state/floor';

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const logout = useCallback(() => {
    clearSession();
    setSession(null);
  }, []);
  const api = useMemo(
    () => createApiClient({ token: () => sessionRef.current?.token ?? null, onUnauthorized: logout }),
    [logout],
  );
  if (!session) return <Login api={api} onLoggedIn={(login) => setSession(saveSession(login))} />;
  return <Dashboard session={session} api={api} onLogout={logout} />;
}

function Dashboard({ session, api, onLogout }: { session: Session; api: ApiClient; onLogout: () => void }) {
  const [floor, dispatch] = useReducer(floorReducer, EMPTY_FLOOR);
  const [alerts, setAlerts] = useState<AlertMessage[]>([]);
  const [floorError, setFloorError] = useState<string | null>(null);
  const [needsMeOnly, setNeedsMeOnly] = useState(false);
  const [summaryOpen, setSummaryOpen] = useState(false);
  const [selectedSlotId, setSelectedSlotId] = useState<string | null>(null);

  const reloadFloor = useCallback(() => {
    api('floor')
      .then((snapshot) => {
        dispatch({ type: 'floor.loaded', floor: snapshot });
        setFloorError(null);
      })
      .catch((error: unknown) => setFloorError(messageOf(error)));
  }, [api]);
  useEffect(reloadFloor, [reloadFloor]);

  // Live events reach the floor once per animation frame, in one render (see state/batcher.ts).
  const live = useMemo(
    () => createBatcher<FloorAction>((actions) => dispatch({ type: 'batch', actions }), nextFrame),
    [],
  );
  useEffect(() => () => live.cancel(), [live]);

  const hostsRef = useRef(floor.hosts);
  hostsRef.current = floor.hosts;
  const connection = useBenchSocket(session.token, {
    // Whatever happened while disconnected (a server restart, a dropped link) is in a fresh snapshot.
    onConnect: reloadFloor,
    onSlot: (slot) => live.push({ type: 'slot.updated', slot }),
    onProgress: (progress) => live.push({ type: 'slot.progress', progress }),
    onHost: (host) => {
      live.push({ type: 'host.updated', host });
      // A new bench PC: its benches and its quiet slots (which send no updates) are in the floor.
      if (!hostsRef.current.some((known) => known.id === host.id)) reloadFloor();
    },
    onAlert: (alert) => setAlerts((current) => addAlert(current, alert)),
    // A refused handshake usually means the token is no longer valid: a 401 here logs out.
    onRefused: () => void api('me').catch(() => undefined),
  });

  useEffect(() => setAlerts((current) => pruneResolvedAlerts(current, floor.slots)), [floor.slots]);

  const slots = useMemo(() => Object.values(floor.slots), [floor.slots]);
  const floorKey = useMemo(() => JSON.stringify(countByState(slots)), [slots]);
  const selectedSlot = selectedSlotId ? floor.slots[selectedSlotId] : undefined;
  const selectedHost = selectedSlot && floor.hosts.find((host) => host.id === selectedSlot.hostId);
  const canSeeSummary = roleAllows(session.user.role, API_ROUTES.summary.access);
  const closeDrawer = useCallback(() => setSelectedSlotId(null), []);
  const logout = () => {
    api('logout').catch(() => undefined);
    onLogout();
  };

  return (
    <div class={`app${connection === 'connected' ? '' : ' offline'}`}>
      {connection !== 'connected' && (
        <div class="connection-banner" data-testid="connection-banner" role="status">
          {connection === 'connecting' ? 'Connecting to the server…' : 'Connection lost: reconnecting…'}
        </div>
      )}
      <Header
        slots={slots}
        hosts={floor.hosts}
        user={session.user}
        needsMeOnly={needsMeOnly}
        onToggleNeedsMe={() => setNeedsMeOnly((on) => !on)}
        canSeeSummary={canSeeSummary}
        summaryOpen={summaryOpen}
        onToggleSummary={() => setSummaryOpen((open) => !open)}
        onLogout={logout}
      />
      <Alerts
        alerts={alerts}
        onOpen={setSelectedSlotId}
        onDismiss={(id) => setAlerts((current) => dismissAlert(current, id))}
      />
      {floorError && (
        <p class="error banner" role="alert">
          Could not load the floor: {floorError}
        </p>
      )}
      <div class={`main${summaryOpen && canSeeSummary ? ' with-summary' : ''}`}>
        {floor.loaded ? (
          <Floor
            hosts={floor.hosts}
            benches={floor.benches}
            slots={slots}
            needsMeOnly={needsMeOnly}
            selectedSlotId={selectedSlotId}
            onOpen={setSelectedSlotId}
          />
        ) : (
          <p class="muted loading">Loading the floor…</p>
        )}
        {summaryOpen && canSeeSummary && (
          <Summary
            api={api}
            floorKey={floorKey}
            benches={floor.benches}
            onClose={() => setSummaryOpen(false)}
          />
        )}
      </div>
      {selectedSlot && <SlotDrawer slot={selectedSlot} host={selectedHost} api={api} onClose={closeDrawer} />}
    </div>
  );
}
