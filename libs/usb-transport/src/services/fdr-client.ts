// FDR control channel (device port 1082 in restore mode), minimal: the BeginCtrl handshake and
// a close. idevicerestore treats any FDR failure as non-fatal, so callers may ignore errors
// from here and go on with the restore; the device closes the channel once it has received
// ReceivedFinalStatusMsg.
import type { Duplex } from 'node:stream';
import {
  decodeFdrConnPort,
  decodeFdrMessage,
  encodeFdrHandshake,
  FDR_PORT,
  fdrMessageFormat,
  FrameDecoder,
  ProtocolError,
} from '@bench/protocols';
import type { DevicePortConnector } from './restored-client';
import { DeviceServiceError } from './service-errors';

export class FdrClient {
  private readonly decoder = new FrameDecoder(fdrMessageFormat());

  constructor(readonly channel: Duplex) {
    // Past the handshake nothing on this channel matters to the restore: never crash on it.
    channel.on('error', () => undefined);
  }

  static async open(connect: DevicePortConnector, signal?: AbortSignal): Promise<FdrClient> {
    return new FdrClient(await connect(FDR_PORT, signal));
  }

  /** Writes `BeginCtrl\0` + {Command: BeginCtrl, CtrlProtoVersion: 2}; resolves with the reply's ConnPort. */
  handshake(timeoutMs = 10_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const done = (error: Error | undefined, port?: number) => {
        clearTimeout(timer);
        this.channel.off('data', onData);
        this.channel.off('end', onEnd);
        this.channel.off('error', onError);
        if (error) {
          this.close();
          reject(error);
        } else resolve(port as number);
      };
      const onData = (chunk: Buffer) => {
        try {
          const [frame] = this.decoder.push(chunk, 1);
          if (frame) done(undefined, decodeFdrConnPort(decodeFdrMessage(frame)));
        } catch (error) {
          const detail = error instanceof ProtocolError ? error.message : String(error);
          done(
            new DeviceServiceError(
              'malformed',
              'FDR',
              `bad BeginCtrl reply: ${detail}`,
              {},
              { cause: error },
            ),
          );
        }
      };
      const onEnd = () =>
        done(new DeviceServiceError('closed', 'FDR', 'the device closed the control channel'));
      const onError = (error: Error) =>
        done(
          new DeviceServiceError(
            'closed',
            'FDR',
            `control channel failed: ${error.message}`,
            {},
            { cause: error },
          ),
        );
      const timer = setTimeout(
        () => done(new DeviceServiceError('timeout', 'FDR', `no BeginCtrl reply within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.channel.on('data', onData);
      this.channel.once('end', onEnd);
      this.channel.once('error', onError);
      this.channel.resume(); // usbmux hands connected sockets over paused
      this.channel.write(encodeFdrHandshake());
    });
  }

  close(): void {
    this.channel.on('error', () => undefined);
    this.channel.destroy();
  }
}
