// Badges that never rely on colour alone: a state (colour, icon and word) and the cable health.
import { cableBadge, presentState } from '../state/presentation';
import type { SlotState } from '../state/vocabulary';
import { Icon } from './Icon';

export function StateBadge({ state, testId }: { state: SlotState; testId?: string }) {
  const look = presentState(state);
  return (
    <span
      class={`state-badge${look.standOut ? ' stand-out' : ''}`}
      style={{ '--state-colour': look.colour, '--word-length': String(look.word.length) }}
    >
      <Icon name={look.icon} />
      <span data-testid={testId}>{look.word}</span>
    </span>
  );
}

export function CableBadge({ score }: { score: number | undefined | null }) {
  const badge = cableBadge(score);
  if (!badge) return null;
  return (
    <span class={`cable-badge cable-${badge.level}`} title={`cable health ${badge.score}/100`}>
      <Icon name="plug" />
      {badge.word}
    </span>
  );
}
