// Inline SVG icons (no icon font, no CDN): simple stroked shapes that stay legible at a distance.
import type { IconName } from '../state/presentation';

const PATHS: Record<IconName, string> = {
  empty: 'M12 4a8 8 0 1 0 0 16a8 8 0 1 0 0-16',
  phone:
    'M8 2.5h8a1.5 1.5 0 0 1 1.5 1.5v16a1.5 1.5 0 0 1-1.5 1.5H8A1.5 1.5 0 0 1 6.5 20V4A1.5 1.5 0 0 1 8 2.5zM11 18.5h2',
  plug: 'M9 2v5M15 2v5M6 7h12v4a6 6 0 0 1-12 0zM12 17v5',
  hourglass: 'M6 2.5h12M6 21.5h12M7.5 2.5v3L12 12l-4.5 6.5v3M16.5 2.5v3L12 12l4.5 6.5v3',
  download: 'M12 3v12M7 10l5 5 5-5M4 20h16',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  retry: 'M20 12a8 8 0 1 1-2.4-5.7M20 4v5h-5',
  'clock-alert': 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5l3.5 2.5',
  skull: 'M8 2.5h8l5.5 5.5v8L16 21.5H8L2.5 16V8zM9 9l6 6M15 9l-6 6',
  warning: 'M12 3L2 21h20zM12 10v5M12 18v0.5',
  check: 'M4 12.5l5 5L20 6.5',
  lock: 'M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1zM8 11V7.5a4 4 0 0 1 8 0V11',
  // A bench PC's screen, struck through.
  'host-offline':
    'M4 4.5h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-10a1 1 0 0 1 1-1zM8 20.5h8M12 16.5v4M3 3l18 18',
};

export function Icon({ name, size = '1em', title }: { name: IconName; size?: string; title?: string }) {
  return (
    <svg
      class="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2.2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden={title ? undefined : 'true'}
      role={title ? 'img' : undefined}
    >
      {title && <title>{title}</title>}
      <path d={PATHS[name]} />
    </svg>
  );
}

/** A battery outline filled to its level. */
export function BatteryIcon({ percent }: { percent: number }) {
  const width = Math.max(0, Math.min(100, percent)) * 0.14;
  return (
    <svg class="icon" width="1.3em" height="1em" viewBox="0 0 24 18" aria-hidden="true">
      <rect x="1.5" y="3" width="18" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="2" />
      <rect x="3.5" y="5" width={width} height="8" rx="1" fill="currentColor" />
      <path d="M21.5 7v4" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" />
    </svg>
  );
}
