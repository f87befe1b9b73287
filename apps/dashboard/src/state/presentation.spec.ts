import {
  cableBadge,
  clampPercent,
  formatAttempt,
  formatEta,
  formatPercent,
  formatRate,
  formatVersions,
  presentState,
  SLOT_STATES,
  formatLastKnownDetail,
} from './presentation';
import { NEEDS_ME_STATES } from './vocabulary';

describe('presentState', () => {
  it('gives every slot state its own colour, its own icon and its name as the word', () => {
    const looks = SLOT_STATES.map((state) => ({ state, ...presentState(state) }));
    for (const look of looks) {
      expect(look.word).toBe(look.state);
      expect(look.colour).toMatch(/^#[0-9a-f]{6}$/);
    }
    expect(new Set(looks.map((look) => look.colour)).size).toBe(SLOT_STATES.length);
    expect(new Set(looks.map((look) => look.icon)).size).toBe(SLOT_STATES.length);
  });

  it('makes exactly the states that need a human stand out', () => {
    const standingOut = SLOT_STATES.filter((state) => presentState(state).standOut);
    expect(standingOut.sort()).toEqual([...NEEDS_ME_STATES].sort());
  });

  it('still shows the word of a state this build does not know', () => {
    const look = presentState('melted' as never);
    expect(look.word).toBe('melted');
    expect(look.standOut).toBe(false);
  });
});

describe('cableBadge', () => {
  it.each([
    [100, 'good'],
    [80, 'good'],
    [79.6, 'good'],
    [79, 'worn'],
    [50, 'worn'],
    [49, 'bad'],
    [0, 'bad'],
  ])('score %p is %p', (score, level) => {
    expect(cableBadge(score)?.level).toBe(level);
  });

  it('shows no badge without a score', () => {
    expect(cableBadge(undefined)).toBeNull();
    expect(cableBadge(null)).toBeNull();
    expect(cableBadge(Number.NaN)).toBeNull();
  });

  it('says the level in words', () => {
    expect(cableBadge(60)).toEqual({ level: 'worn', word: 'cable worn', score: 60 });
  });
});

describe('formatEta', () => {
  it.each([
    [0, '0 s'],
    [44.6, '45 s'],
    [59, '59 s'],
    [60, '1 min'],
    [725, '12 min'],
    [3599, '1 h 00 min'],
    [3600, '1 h 00 min'],
    [3900, '1 h 05 min'],
    [7 * 3600 + 59 * 60, '7 h 59 min'],
  ])('%p seconds reads %p', (seconds, text) => {
    expect(formatEta(seconds)).toBe(text);
  });

  it('shows nothing for an unknown or impossible ETA', () => {
    expect(formatEta(undefined)).toBe('');
    expect(formatEta(-5)).toBe('');
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('');
  });
});

describe('percent, versions, attempts, rates', () => {
  it('clamps percent to 0..100 and shows it whole', () => {
    expect(clampPercent(140)).toBe(100);
    expect(clampPercent(-3)).toBe(0);
    expect(clampPercent(undefined)).toBeNull();
    expect(formatPercent(99.9)).toBe('99%');
    expect(formatPercent(undefined)).toBe('');
  });

  it('shows iOS from → to', () => {
    expect(formatVersions('17.1', '18.2')).toBe('iOS 17.1 → 18.2');
    expect(formatVersions('18.2', '18.2')).toBe('iOS 18.2');
    expect(formatVersions(undefined, '18.2')).toBe('→ iOS 18.2');
    expect(formatVersions(undefined, undefined)).toBe('');
  });

  it('shows attempt n/m', () => {
    expect(formatAttempt(2, 3)).toBe('attempt 2/3');
    expect(formatAttempt(1, undefined)).toBe('attempt 1');
    expect(formatAttempt(undefined, 3)).toBe('');
  });

  it('shows a success rate as a percentage', () => {
    expect(formatRate(0.875)).toBe('88%');
    expect(formatRate(null)).toBe('—');
  });
});

describe('formatLastKnownDetail', () => {
  it('keeps the stage and progress a live tile showed, and the attempt', () => {
    expect(
      formatLastKnownDetail({
        state: 'restoring',
        stage: 'send-filesystem',
        percent: 40.6,
        attempt: 1,
        maxAttempts: 3,
      }),
    ).toBe('send-filesystem 40% · attempt 1/3');
  });

  it('leaves out a stage the state does not show, and says nothing when nothing more is known', () => {
    expect(formatLastKnownDetail({ state: 'queued', stage: 'prepare', percent: 0 })).toBe('');
    expect(formatLastKnownDetail({ state: 'idle' })).toBe('');
  });
});
