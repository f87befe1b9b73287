// A small inline-SVG line chart of health values on a 0..100 scale (cable score, battery).
import { sparklineSegments } from '../state/slot-detail';

export interface SparkSeries {
  name: string;
  colour: string;
  values: (number | null)[];
}

const WIDTH = 320;
const HEIGHT = 64;

export function Sparkline({ series, testId }: { series: SparkSeries[]; testId?: string }) {
  const hasData = series.some((line) => line.values.some((value) => value !== null));
  return (
    <figure class="sparkline" data-testid={testId}>
      {hasData ? (
        <svg viewBox={`-2 -2 ${WIDTH + 4} ${HEIGHT + 4}`} preserveAspectRatio="none" role="img">
          <title>{series.map((line) => line.name).join(' and ')} over time</title>
          <line x1="0" x2={WIDTH} y1={HEIGHT / 2} y2={HEIGHT / 2} class="sparkline-mid" />
          {series.flatMap((line) =>
            sparklineSegments(line.values, WIDTH, HEIGHT).map((points, index) =>
              points.includes(' ') ? (
                <polyline key={`${line.name}-${index}`} points={points} stroke={line.colour} />
              ) : (
                <circle
                  key={`${line.name}-${index}`}
                  cx={points.split(',')[0]}
                  cy={points.split(',')[1]}
                  r="2.5"
                  fill={line.colour}
                />
              ),
            ),
          )}
        </svg>
      ) : (
        <p class="muted">No health samples yet.</p>
      )}
      <figcaption>
        {series.map((line) => {
          const last = [...line.values].reverse().find((value) => value !== null);
          return (
            <span key={line.name} class="legend" style={{ color: line.colour }}>
              — {line.name}
              {last !== undefined && last !== null ? ` ${Math.round(last)}` : ''}
            </span>
          );
        })}
      </figcaption>
    </figure>
  );
}
