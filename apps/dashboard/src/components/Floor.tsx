// The floor: each bench laid out like the physical bench (its configured grid) when the screen
// is wide enough to keep tiles readable, else flowing in bench order; under the "needs me"
// filter, one list with the slots that need a human first and the rest dimmed after them.
import type { BenchView, SlotView } from '@bench/events';
import { useEffect, useRef, useState } from 'preact/hooks';
import { fitsBenchLayout, groupByBench, layoutBench, orderNeedsMeFirst } from '../state/floor';
import { needsMe } from '../state/vocabulary';
import { SlotTile } from './SlotTile';

export interface FloorProps {
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
        <Benches {...props} width={width} remPx={remPx} />
      )}
    </section>
  );
}

function Benches({
  benches,
  slots,
  selectedSlotId,
  onOpen,
  width,
  remPx,
}: FloorProps & { width: number; remPx: number }) {
  const groups = groupByBench(benches, slots);
  return (
    <>
      {groups.map((group) => {
        const layout = layoutBench(group.slots);
        const positioned = fitsBenchLayout(width, layout.columns, remPx);
        return (
          <section class="bench" key={group.id} aria-label={`bench ${group.name}`}>
            {groups.length > 1 && <h2 class="bench-name">{group.name}</h2>}
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

function NeedsMeList({ slots, selectedSlotId, onOpen }: FloorProps) {
  const ordered = orderNeedsMeFirst(slots);
  const firstCalm = ordered.findIndex((slot) => !needsMe(slot.state));
  const divider = (text: string) => (
    <p class="floor-divider" key="divider">
      {text}
    </p>
  );
  const tiles = ordered.map((slot) => (
    <SlotTile
      key={slot.id}
      slot={slot}
      dimmed={!needsMe(slot.state)}
      selected={slot.id === selectedSlotId}
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
