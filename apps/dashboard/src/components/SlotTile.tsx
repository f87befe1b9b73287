// One slot on the floor, readable from across the room: label, state (colour, icon, word),
// phone and iOS versions, stage with progress and ETA, battery, cable, attempt, and the big
// DO NOT UNPLUG while pulling the cable would leave the phone half-written. A slot whose host is
// offline is greyed with "host offline": its last known state is secondary text, never shown
// as if it were live (no progress bar, ETA, battery or cable).
import type { SlotView } from '@bench/events';
import { Component } from 'preact';
import {
  batteryLevel,
  clampPercent,
  formatAttempt,
  formatEta,
  formatPercent,
  formatLastKnownDetail,
  formatVersions,
  HOST_OFFLINE_LOOK,
  presentState,
  showsProgress,
} from '../state/presentation';
import { BatteryIcon, Icon } from './Icon';
import { CableBadge, StateBadge } from './StateBadge';

export interface SlotTileProps {
  slot: SlotView;
  /** CSS grid placement on a wide screen (0: flow). */
  row?: number;
  col?: number;
  dimmed?: boolean;
  selected?: boolean;
  /** The slot's host is offline: what the tile knows is its agent's last report. */
  hostOffline?: boolean;
  /** Shown on the tile when the floor has several hosts and the tile stands outside its host's group. */
  hostName?: string;
  onOpen: (slotId: string) => void;
}

/**
 * A tile renders again only when its props change: a live update replaces one slot's view and
 * keeps every other slot's object, so of 128 tiles only the updated ones are diffed.
 */
export class SlotTile extends Component<SlotTileProps> {
  override shouldComponentUpdate(next: SlotTileProps): boolean {
    return !shallowEqual(this.props, next);
  }

  override render(props: SlotTileProps) {
    return <TileBody {...props} />;
  }
}

function shallowEqual(a: object, b: object): boolean {
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => Object.is(left[key], right[key]));
}

function TileBody(props: SlotTileProps) {
  return props.hostOffline ? <OfflineTileBody {...props} /> : <LiveTileBody {...props} />;
}

function LiveTileBody({ slot, row = 0, col = 0, dimmed, selected, hostName, onOpen }: SlotTileProps) {
  const look = presentState(slot.state);
  const percent = clampPercent(slot.percent);
  const showProgress = showsProgress(slot.state) && (slot.stage !== undefined || percent !== null);
  const battery = batteryLevel(slot.batteryLevel);
  const versions = formatVersions(slot.fromVersion, slot.toVersion);
  const attempt = formatAttempt(slot.attempt, slot.maxAttempts);
  const note = slot.state === 'quarantined' ? (slot.quarantineReason ?? slot.detail) : slot.detail;
  const classes = ['tile', look.standOut && 'stand-out', dimmed && 'dimmed', selected && 'selected']
    .filter(Boolean)
    .join(' ');
  const open = () => onOpen(slot.id);
  return (
    <div
      class={classes}
      data-testid="slot-tile"
      data-slot-id={slot.id}
      data-state={slot.state}
      data-label={slot.label ?? ''}
      data-port={slot.portPath}
      role="button"
      tabIndex={0}
      aria-label={`${tileName(slot, hostName)}: ${slot.state}`}
      style={{
        '--state-colour': look.colour,
        ...(row > 0 && col > 0 ? { '--row': String(row), '--col': String(col) } : {}),
      }}
      onClick={open}
      onKeyDown={(event) => openOnKey(event, open)}
    >
      <TileHead slot={slot} hostName={hostName} />
      <div class="tile-state">
        <StateBadge state={slot.state} testId="tile-state" />
      </div>
      <TileDevice slot={slot} versions={versions} />
      {showProgress && (
        <div
          class="tile-progress"
          data-testid="tile-progress"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent ?? undefined}
          aria-valuetext={`${slot.stage ?? ''} ${formatPercent(percent)}`.trim()}
        >
          <div class="tile-stage">
            <span>{slot.stage}</span>
            <span class="tile-percent">{formatPercent(percent)}</span>
          </div>
          <div class="bar">
            {/* Scaled, not sized: a transform transition runs on the compositor, a width one re-lays out every frame. */}
            <div class="bar-fill" style={{ transform: `scaleX(${(percent ?? 0) / 100})` }} />
          </div>
          {slot.etaSeconds !== undefined && <div class="tile-eta">ETA {formatEta(slot.etaSeconds)}</div>}
        </div>
      )}
      {slot.state === 'queued' && slot.queuePosition !== undefined && (
        <div class="tile-note">#{slot.queuePosition} in queue</div>
      )}
      {note && <div class="tile-note">{note}</div>}
      <footer class="tile-foot">
        {slot.batteryLevel !== undefined && (
          <span class={`battery battery-${battery}`} title="battery">
            <BatteryIcon percent={slot.batteryLevel} />
            {Math.round(slot.batteryLevel)}%
          </span>
        )}
        <CableBadge score={slot.cableScore} />
        {attempt && <span class="tile-attempt">{attempt}</span>}
      </footer>
    </div>
  );
}

/**
 * A slot of an offline host. Its run is not lost (the record keeps it, the job waits in the port's
 * queue until the agent is back), but nobody reports on it now. DO NOT UNPLUG stays: an agent cut
 * off from Redis may still be writing the phone.
 */
function OfflineTileBody({ slot, row = 0, col = 0, dimmed, selected, hostName, onOpen }: SlotTileProps) {
  const versions = formatVersions(slot.fromVersion, slot.toVersion);
  const lastKnown = formatLastKnownDetail(slot);
  const classes = ['tile', 'host-offline', dimmed && 'dimmed', selected && 'selected']
    .filter(Boolean)
    .join(' ');
  const open = () => onOpen(slot.id);
  return (
    <div
      class={classes}
      data-testid="slot-tile"
      data-slot-id={slot.id}
      data-state={slot.state}
      data-host-offline="true"
      data-label={slot.label ?? ''}
      data-port={slot.portPath}
      role="button"
      tabIndex={0}
      aria-label={`${tileName(slot, hostName)}: ${HOST_OFFLINE_LOOK.word}, last known ${slot.state}`}
      style={{
        '--state-colour': HOST_OFFLINE_LOOK.colour,
        ...(row > 0 && col > 0 ? { '--row': String(row), '--col': String(col) } : {}),
      }}
      onClick={open}
      onKeyDown={(event) => openOnKey(event, open)}
    >
      <TileHead slot={slot} hostName={hostName} />
      <div class="tile-state">
        <span
          class="state-badge host-offline-badge"
          data-testid="tile-host-offline"
          style={{ '--word-length': String(HOST_OFFLINE_LOOK.word.length) }}
        >
          <Icon name={HOST_OFFLINE_LOOK.icon} />
          <span>{HOST_OFFLINE_LOOK.word}</span>
        </span>
      </div>
      <div class="tile-last-known" data-testid="tile-last-known">
        last known: <span data-testid="tile-state">{slot.state}</span>
        {lastKnown && ` · ${lastKnown}`}
      </div>
      <TileDevice slot={slot} versions={versions} />
    </div>
  );
}

/** The DO NOT UNPLUG banner while unplugging would harm the phone, then the phone and its iOS. */
function TileDevice({ slot, versions }: { slot: SlotView; versions: string }) {
  return (
    <>
      {slot.doNotUnplug && (
        <div class="do-not-unplug" data-testid="do-not-unplug" role="alert">
          DO NOT UNPLUG
        </div>
      )}
      {(slot.productType || versions) && (
        <div class="tile-device">
          {slot.productType && <span class="tile-model">{slot.productType}</span>}
          {versions && <span class="tile-versions">{versions}</span>}
        </div>
      )}
    </>
  );
}

function TileHead({ slot, hostName }: { slot: SlotView; hostName?: string }) {
  return (
    <header class="tile-head">
      <span class="tile-label">{slot.label ?? slot.portPath}</span>
      {slot.label && <span class="tile-port">{slot.portPath}</span>}
      {hostName && <span class="tile-host">{hostName}</span>}
      {slot.paused && <span class="tile-paused">paused</span>}
    </header>
  );
}

function tileName(slot: SlotView, hostName: string | undefined): string {
  const name = slot.label ?? slot.portPath;
  return hostName ? `${name} on ${hostName}` : name;
}

function openOnKey(event: KeyboardEvent, open: () => void): void {
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    open();
  }
}
