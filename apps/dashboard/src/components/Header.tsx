// The header: counts by state (readable from across the room), the "needs me" filter, the
// summary for managers, and who is logged in. Slots of an offline host are counted as "host
// offline", not under the state their agent last reported.
import type { HostView, SlotView, UserView } from '@bench/events';
import { countByState, countNeedsMe } from '../state/floor';
import { offlineHostIds } from '../state/hosts';
import { HOST_OFFLINE_LOOK, presentState, SLOT_STATES } from '../state/presentation';
import { Icon } from './Icon';

export interface HeaderProps {
  slots: SlotView[];
  hosts: HostView[];
  user: UserView;
  needsMeOnly: boolean;
  onToggleNeedsMe: () => void;
  canSeeSummary: boolean;
  summaryOpen: boolean;
  onToggleSummary: () => void;
  onLogout: () => void;
}

export function Header(props: HeaderProps) {
  const offlineIds = offlineHostIds(props.hosts);
  const live = props.slots.filter((slot) => !offlineIds.has(slot.hostId));
  const counts = countByState(live);
  const slotsOffline = props.slots.length - live.length;
  const needingMe = countNeedsMe(props.slots, offlineIds);
  const offline = props.hosts.filter((host) => !host.online);
  return (
    <header class="top">
      <h1 class="brand">bench</h1>
      <ul class="counts" aria-label="slots by state">
        {SLOT_STATES.filter((state) => counts[state]).map((state) => {
          const look = presentState(state);
          return (
            <li
              key={state}
              class={`count${look.standOut ? ' stand-out' : ''}`}
              data-state={state}
              style={{ '--state-colour': look.colour }}
            >
              <Icon name={look.icon} />
              <strong>{counts[state]}</strong>
              <span>{look.word}</span>
            </li>
          );
        })}
        {slotsOffline > 0 && (
          <li class="count" data-state="host-offline" style={{ '--state-colour': HOST_OFFLINE_LOOK.colour }}>
            <Icon name={HOST_OFFLINE_LOOK.icon} />
            <strong>{slotsOffline}</strong>
            <span>{HOST_OFFLINE_LOOK.word}</span>
          </li>
        )}
      </ul>
      {offline.length > 0 && (
        <p class="hosts-offline" data-testid="hosts-offline" role="alert">
          <Icon name="warning" /> agent offline: {offline.map((host) => host.name).join(', ')}
        </p>
      )}
      <nav class="nav">
        <button
          class={`filter${props.needsMeOnly ? ' on' : ''}${needingMe > 0 ? ' urgent' : ''}`}
          data-testid="filter-needs-me"
          aria-pressed={props.needsMeOnly}
          onClick={props.onToggleNeedsMe}
        >
          <Icon name="warning" /> needs me <strong>{needingMe}</strong>
        </button>
        {props.canSeeSummary && (
          <button
            class={`filter${props.summaryOpen ? ' on' : ''}`}
            data-testid="summary-open"
            aria-pressed={props.summaryOpen}
            onClick={props.onToggleSummary}
          >
            summary
          </button>
        )}
        <span class="user" title={`role: ${props.user.role}`}>
          {props.user.username}
        </span>
        <button class="logout" data-testid="logout" onClick={props.onLogout}>
          log out
        </button>
      </nav>
    </header>
  );
}
