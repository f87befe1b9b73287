// The floor: each bench laid out like the physical bench (its configured grid) when the screen
// is wide enough to keep tiles readable, else flowing in bench order; with several hosts, the
// benches under a heading per host saying whether its agent is online; under the "needs me"
// filter, one list with the slots that need a human first and the rest dimmed after them.
import type { BenchView, HostView, SlotView } from '@bench/events';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  fitsBenchLayout,
  groupByBench,
  groupByHost,
  layoutBench,
  orderNeedsMeFirst,
  type BenchGroup,
  type HostGroup,
} from '../state/floor';
import { formatLastSeen, offlineHostIds, slotNeedsMe } from '../state/hosts';
import { Icon } from './Icon';
import { SlotTile } from './SlotTile';

export interface FloorProps {
  hosts: HostView[];
  benches: BenchView[];
  slots: SlotView[];
  needsMeOnly: boolean;
  selectedSlotId: string | null;
  onOpen: (slotId: string) => void;
}

export function Floor(props: FloorProps) {
  const [ref, width, remPx] = useWidth();
  return (
    <section class={`floor${props.needsMeOnly ? ' needs-me' : ''}`} data-testid="floor" ref={ref}>
      {props.slots.length === 0 ? (
        <p class="floor-empty">No slots yet. Slots appear when a bench agent starts (`bench start`).</p>
      ) : props.needsMeOnly ? (
        <NeedsMeList {...props} />
      ) : (
        <Hosts {...props} width={width} remPx={remPx} />
      )}
    </section>
  );
}

interface LayoutProps {
  selectedSlotId: string | null;
  onOpen: (slotId: string) => void;
  width: number;
  remPx: number;
}

/** One host: the benches as they always looked. Several: a section per host, then its benches. */
function Hosts(props: FloorProps & { width: number; remPx: number }) {
  const hostGroups = groupByHost(props.hosts, props.benches, props.slots);
  const offline = offlineHostIds(props.hosts);
  if (hostGroups.length <= 1)
    return (
      <Benches {...props} groups={groupByBench(props.benches, props.slots)} offline={offline} level={2} />
    );
  return (
    <>
      {hostGroups.map((group) => (
        <section
          class={`host${group.online ? '' : ' offline'}`}
          key={group.id}
          aria-label={`host ${group.name}`}
          data-testid="host-group"
          data-host-id={group.id}
          data-online={group.host ? String(group.online) : undefined}
        >
          <HostHeading group={group} />
          <Benches {...props} groups={group.benches} offline={offline} level={3} />
        </section>
      ))}
    </>
  );
}

function HostHeading({ group }: { group: HostGroup }) {
  // "last seen N s ago" keeps counting while the host stays away.
  const now = useNow(group.online ? null : 1_000);
  return (
    <h2 class="host-name">
      <span>{group.name}</span>
      {/* A host the server has not described yet (it joined a moment ago): no claim either way. */}
      {!group.host ? null : group.online ? (
        <span class="host-badge online" data-testid="host-status">
          <Icon name="check" /> online
        </span>
      ) : (
        <span class="host-badge offline" data-testid="host-status">
          <Icon name="host-offline" /> offline · {formatLastSeen(group.host.lastSeenAt, now)}
        </span>
      )}
    </h2>
  );
}

function Benches({
  groups,
  offline,
  level,
  selectedSlotId,
  onOpen,
  width,
  remPx,
}: LayoutProps & { groups: BenchGroup[]; offline: ReadonlySet<string>; level: 2 | 3 }) {
  const BenchHeading = level === 2 ? 'h2' : 'h3';
  return (
    <>
      {groups.map((group) => {
        const layout = layoutBench(group.slots);
        const positioned = fitsBenchLayout(width, layout.columns, remPx);
        return (
          <section class="bench" key={group.id} aria-label={`bench ${group.name}`}>
            {groups.length > 1 && <BenchHeading class="bench-name">{group.name}</BenchHeading>}
            <div
              class={`bench-grid${positioned ? ' positioned' : ''}`}
              style={positioned ? { '--columns': String(layout.columns) } : undefined}
            >
              {layout.placed.map(({ slot, row, col }) => (
                <SlotTile
                  key={slot.id}
                  slot={slot}
                  row={positioned ? row : 0}
                  col={positioned ? col : 0}
                  selected={slot.id === selectedSlotId}
                  hostOffline={offline.has(slot.hostId)}
                  onOpen={onOpen}
                />
              ))}
            </div>
          </section>
        );
      })}
    </>
  );
}

function NeedsMeList({ hosts, slots, selectedSlotId, onOpen }: FloorProps) {
  const offline = offlineHostIds(hosts);
  const ordered = orderNeedsMeFirst(slots, offline);
  const firstCalm = ordered.findIndex((slot) => !slotNeedsMe(slot, offline));
  // One list for every host: with several, each tile says which PC it is on (labels repeat).
  const names = new Map(hosts.map((host) => [host.id, host.name]));
  const severalHosts = new Set(slots.map((slot) => slot.hostId)).size > 1;
  const divider = (text: string) => (
    <p class="floor-divider" key="divider">
      {text}
    </p>
  );
  const tiles = ordered.map((slot) => (
    <SlotTile
      key={slot.id}
      slot={slot}
      dimmed={!slotNeedsMe(slot, offline)}
      selected={slot.id === selectedSlotId}
      hostOffline={offline.has(slot.hostId)}
      hostName={severalHosts ? (names.get(slot.hostId) ?? slot.hostId) : undefined}
      onOpen={onOpen}
    />
  ));
  if (firstCalm === 0) tiles.unshift(divider('Nothing needs you right now.'));
  else if (firstCalm > 0) tiles.splice(firstCalm, 0, divider('Everything else'));
  return <div class="bench-grid">{tiles}</div>;
}

/** The floor's width (and the rem size), kept current as the window or the summary panel changes it. */
function useWidth() {
  const ref = useRef<HTMLElement>(null);
  const [size, setSize] = useState({ width: 0, remPx: 16 });
  useEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    const measure = () =>
      setSize({
        width: element.clientWidth,
        remPx: parseFloat(getComputedStyle(document.documentElement).fontSize) || 16,
      });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, size.width, size.remPx] as const;
}

/** The time now, read again every `everyMs` (null: not ticking). */
function useNow(everyMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (everyMs === null) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
