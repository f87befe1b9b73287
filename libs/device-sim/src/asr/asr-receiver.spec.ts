import { createHash } from 'node:crypto';
import { Duplex, PassThrough } from 'node:stream';
import {
  ASR_CHUNK_SIZE,
  AsrPlistDecoder,
  asrChunks,
  asrPacketInfo,
  asrWireLength,
  decodeAsrCommand,
  encodePlistXml,
  type PlistDict,
} from '@bench/protocols';
import type { LinkThrottle } from '../bench-hooks';
import { SyntheticOsImage } from '../ipsw/synthetic-os-image';
import { syntheticOsFilesystem } from '../restored/synthetic-os-verifier';
import { SeededRandom } from '../time/random';
import { receiveFilesystem, type AsrProgressDecision, type AsrReceiverOptions } from './asr-receiver';

function streamPair(): [Duplex, Duplex] {
  const toDevice = new PassThrough();
  const toHost = new PassThrough();
  const ends: [Duplex, Duplex] = [
    Duplex.from({ readable: toDevice, writable: toHost }),
    Duplex.from({ readable: toHost, writable: toDevice }),
  ];
  for (const end of ends) end.on('error', () => undefined);
  return ends;
}

interface HostOptions {
  /** Replace the bytes of an OOB answer. */
  oobAnswer?: (offset: number, bytes: Buffer) => Buffer;
  checksums?: boolean;
}

/** The host side of ASR, written from the protocol notes (restore-protocol.md §4). */
function runHost(channel: Duplex, image: SyntheticOsImage, options: HostOptions = {}) {
  const decoder = new AsrPlistDecoder();
  const deviceWrites: Buffer[] = [];
  const oob: Array<{ offset: number; length: number }> = [];
  channel.on('data', (chunk: Buffer) => {
    deviceWrites.push(chunk);
    for (const dict of decoder.push(chunk)) void handle(dict);
  });
  async function handle(dict: PlistDict): Promise<void> {
    const command = decodeAsrCommand(dict);
    if (command.command === 'Initiate') {
      channel.write(encodePlistXml(asrPacketInfo(image.size, options.checksums ?? command.checksumChunks)));
      channel.write('\n');
    } else if (command.command === 'OOBData') {
      oob.push({ offset: command.offset, length: command.length });
      const bytes = image.bytesAt(command.offset, command.length);
      channel.write(options.oobAnswer ? options.oobAnswer(command.offset, bytes) : bytes);
    } else if (command.command === 'Payload') {
      for (const chunk of asrChunks(image.size)) {
        const data = image.bytesAt(chunk.offset, chunk.length);
        channel.write(data);
        if (options.checksums ?? true) channel.write(createHash('sha1').update(data).digest());
      }
      channel.end();
    }
  }
  return { deviceWrites, oob };
}

function recordingLink(): LinkThrottle & { bytes: number } {
  const link = {
    bytes: 0,
    linkSpeedBps: 480_000_000,
    transfer: (n: number) => {
      link.bytes += n;
      return Promise.resolve();
    },
  };
  return link;
}

function options(overrides: Partial<AsrReceiverOptions> = {}): AsrReceiverOptions {
  return {
    link: recordingLink(),
    random: new SeededRandom(3),
    signal: new AbortController().signal,
    filesystem: syntheticOsFilesystem(),
    ...overrides,
  };
}

const image = SyntheticOsImage.create({
  size: 3 * ASR_CHUNK_SIZE + 4_321,
  seed: 'asr spec',
  label: 'iPhone10,1 18.6.2 22G100',
});

describe('ASR receiver', () => {
  it('validates OOB ranges, takes every chunk with its SHA-1 at the link pace, and verifies the image', async () => {
    const [device, host] = streamPair();
    const peer = runHost(host, image);
    const link = recordingLink();
    const percents: number[] = [];
    const result = await receiveFilesystem(
      device,
      options({
        link,
        progress: (percent) => {
          percents.push(percent);
          return Promise.resolve('continue');
        },
      }),
    );
    expect(result).toEqual({
      ok: true,
      bytes: image.size,
      contentVerified: true,
      build: { productVersion: '18.6.2', buildVersion: '22G100' },
    });
    expect(link.bytes).toBe(asrWireLength(image.size, true));
    expect(peer.oob).toHaveLength(3);
    expect(peer.oob[0].offset).toBe(0);
    expect(peer.oob[0].length).toBeGreaterThanOrEqual(512);
    expect(percents[0]).toBe(0);
    expect(percents.at(-1)).toBe(100);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    // Every device message went out as one whole plist, well under 64 KiB.
    for (const write of peer.deviceWrites) {
      expect(write.toString()).toMatch(/^<\?xml[\s\S]*<\/plist>$/);
      expect(write.length).toBeLessThan(64 * 1024);
    }
  });

  it('fails validation when an OOB answer is not the image', async () => {
    const [device, host] = streamPair();
    runHost(host, image, {
      oobAnswer: (offset, bytes) => (offset === 0 ? bytes : Buffer.alloc(bytes.length, 0x41)),
    });
    const result = await receiveFilesystem(device, options());
    expect(result).toMatchObject({ ok: false, verification: true });
    expect(!result.ok && result.reason).toMatch(/image validation failed at OOB/);
  });

  it('reports a SHA-1 mismatch when the chunk was damaged in transit', async () => {
    const [device, host] = streamPair();
    runHost(host, image);
    let decision: AsrProgressDecision = 'continue';
    const result = await receiveFilesystem(
      device,
      options({
        progress: (percent) => {
          const now = decision;
          if (percent >= 30) decision = 'corrupt';
          return Promise.resolve(now);
        },
      }),
    );
    expect(result).toMatchObject({ ok: false, verification: true });
    expect(!result.ok && result.reason).toMatch(/SHA-1 mismatch/);
  });

  it('takes a raw stream when the host offers no checksum chunks', async () => {
    const [device, host] = streamPair();
    runHost(host, image, { checksums: false });
    const link = recordingLink();
    const result = await receiveFilesystem(device, options({ link }));
    expect(result).toMatchObject({ ok: true, bytes: image.size, contentVerified: true });
    expect(link.bytes).toBe(image.size);
  });

  it('reports a transport failure when the host hangs up mid-stream', async () => {
    const [device, host] = streamPair();
    const decoder = new AsrPlistDecoder();
    host.on('data', (chunk: Buffer) => {
      for (const dict of decoder.push(chunk)) {
        const command = decodeAsrCommand(dict);
        if (command.command === 'Initiate') host.write(encodePlistXml(asrPacketInfo(image.size, true)));
        if (command.command === 'OOBData') host.write(image.bytesAt(command.offset, command.length));
        if (command.command === 'Payload') host.end(image.bytesAt(0, 1000));
      }
    });
    const result = await receiveFilesystem(device, options());
    expect(result).toMatchObject({ ok: false, verification: false });
  });
});
