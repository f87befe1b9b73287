// FDR control channel on device port 1082 in restore mode: the host writes `BeginCtrl\0` and a
// little-endian-length binary plist {Command: BeginCtrl, CtrlProtoVersion: 2}; the device answers
// {ConnPort} the same way and then keeps the channel open (the host's listener thread polls it).
// It is closed when the restore's final status has been acknowledged, which lets idevicerestore
// exit at once instead of after its 20 s poll timeout (idevicerestore-1.0.0-restore-mode.md §2).
import type { Duplex } from 'node:stream';
import {
  FDR_CTRL_PRELUDE,
  FrameDecoder,
  decodeFdrMessage,
  encodeFdrMessage,
  fdrMessageFormat,
  optionalString,
  stripFdrPrelude,
} from '@bench/protocols';

/** The data-connection port we announce. The host only dials it for proxy commands, which we never send. */
export const FDR_CONN_PORT = 1083;

export class FdrControlService {
  private readonly channels = new Set<Duplex>();

  /** Serves one control connection. */
  accept(channel: Duplex): void {
    this.channels.add(channel);
    channel.once('close', () => this.channels.delete(channel));
    channel.on('error', () => undefined);
    let prelude: Buffer | undefined = Buffer.alloc(0);
    const frames = new FrameDecoder(fdrMessageFormat());
    channel.on('data', (chunk: Buffer) => {
      try {
        let rest = chunk;
        if (prelude !== undefined) {
          prelude = Buffer.concat([prelude, chunk]);
          if (prelude.length < FDR_CTRL_PRELUDE.length) return;
          rest = stripFdrPrelude(prelude);
          prelude = undefined;
        }
        for (const frame of frames.push(rest)) this.handle(channel, frame);
      } catch {
        channel.destroy();
      }
    });
  }

  /** The restore is over: every control channel closes. */
  closeAll(): void {
    for (const channel of this.channels) channel.destroy();
    this.channels.clear();
  }

  get openChannels(): number {
    return this.channels.size;
  }

  private handle(channel: Duplex, frame: Buffer): void {
    const message = decodeFdrMessage(frame);
    if (optionalString(message, 'Command') === 'BeginCtrl') {
      // Length and plist in one write: the host reads the reply with a single receive.
      channel.write(encodeFdrMessage({ ConnPort: FDR_CONN_PORT }));
    }
  }
}
