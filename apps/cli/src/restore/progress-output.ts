// How a restore shows itself: a progress bar on a terminal, JSON lines otherwise (or with --json).
import { SingleBar } from 'cli-progress';
import type { RestoreEvent } from '@bench/restore-engine';

export interface ProgressOutput {
  event(event: RestoreEvent): void;
  finish(): void;
}

export function progressOutput(json: boolean, out: NodeJS.WriteStream = process.stdout): ProgressOutput {
  return json || !out.isTTY ? new JsonLines(out) : new TerminalBar(out);
}

class JsonLines implements ProgressOutput {
  constructor(private readonly out: NodeJS.WritableStream) {}

  event(event: RestoreEvent): void {
    this.out.write(`${JSON.stringify(event)}\n`);
  }

  finish(): void {}
}

class TerminalBar implements ProgressOutput {
  private readonly bar: SingleBar;
  private started = false;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.bar = new SingleBar({
      format: '{stage} [{bar}] {percent}% {detail}',
      stream: out,
      hideCursor: true,
      clearOnComplete: false,
    });
  }

  event(event: RestoreEvent): void {
    switch (event.type) {
      case 'stage':
        if (!this.started) {
          this.bar.start(100, 0, { stage: event.stage.padEnd(16), detail: '' });
          this.started = true;
        }
        this.bar.update(0, { stage: event.stage.padEnd(16), detail: '' });
        break;
      case 'progress': {
        const detail = event.bytesTotal
          ? `${mb(event.bytesSent ?? 0)}/${mb(event.bytesTotal)} MB${event.etaSeconds !== undefined ? `  ETA ${event.etaSeconds}s` : ''}`
          : (event.deviceOperation?.name ?? '');
        this.bar.update(Math.round(event.percent), { detail });
        break;
      }
      case 'warning':
        this.bar.stop();
        this.out.write(`warning: ${event.message}\n`);
        this.started = false;
        break;
      default:
        break;
    }
  }

  finish(): void {
    if (this.started) this.bar.stop();
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
