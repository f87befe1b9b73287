// `npm run bench:asr`: the filesystem stream from a stored IPSW member through AsrSender
// (framing, per-chunk SHA-1, backpressure) to a loopback sink in another process.
// Targets (issue: protocol stack #9): ≥ 400 MB/s for one stream, ≥ 400 MB/s aggregate for 16
// concurrent streams, RSS growth < 64 MB for a 2 GiB image.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { RandomAccessSource } from '@bench/bench-domain';
import { buildSyntheticIpsw } from '@bench/device-sim';
import { IpswArchive } from '@bench/firmware';
import { AsrSender } from '@bench/usb-transport';
import { MiB, record, rssSampler, table } from './bench-report';

const ROOT = path.resolve(__dirname, '../..');
const IMAGE_BYTES = 2 * 1024 * MiB;
const CONCURRENT = 16;
const CONCURRENT_BYTES = 256 * MiB;

interface Sink {
  port: number;
  close(): void;
}

async function startSink(): Promise<Sink> {
  const child = fork(path.join(__dirname, 'asr-sink.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) =>
    child.on('message', (message: { type: string; port?: number }) => {
      if (message.type === 'listening') resolve(message.port as number);
    }),
  );
  return { port, close: () => child.kill() };
}

/** The first `size` bytes of a source (the 16-stream run sends 256 MiB views of the image). */
function prefix(source: RandomAccessSource, size: number): RandomAccessSource {
  return {
    size,
    read: (offset, length) => source.read(offset, Math.min(length, size - offset)),
    readInto: source.readInto
      ? (offset, target) =>
          source.readInto!(offset, target.subarray(0, Math.max(0, Math.min(target.length, size - offset))))
      : undefined,
  };
}

async function stream(port: number, source: RandomAccessSource): Promise<number> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const result = await new AsrSender(socket, source).send();
  socket.destroy();
  return result.wireBytes;
}

async function main(): Promise<void> {
  const cache = path.join(ROOT, 'var', 'bench-cache');
  mkdirSync(cache, { recursive: true });
  const ipswPath = path.join(cache, 'asr-2g.ipsw');
  if (!existsSync(ipswPath)) {
    process.stdout.write('building a synthetic IPSW with a 2 GiB OS image (once)…\n');
    await buildSyntheticIpsw({
      productTypes: ['iPhone10,1'],
      osSize: IMAGE_BYTES,
      out: ipswPath,
      seed: 'bench-asr',
    });
  }
  const archive = await IpswArchive.open(ipswPath);
  const os = archive
    .members()
    .filter((m) => m.name.endsWith('.dmg'))
    .sort((a, b) => b.size - a.size)[0];
  const source = await archive.memberSource(os.name);
  const sink = await startSink();
  try {
    // One stream of the whole 2 GiB image.
    const sampler = rssSampler();
    let started = process.hrtime.bigint();
    const bytes = await stream(sink.port, source);
    let seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const peak = sampler.stop();
    const single = source.size / seconds / 1e6;
    const rssGrowth = (peak - sampler.baseline) / MiB;

    // Sixteen concurrent streams.
    started = process.hrtime.bigint();
    const all = await Promise.all(
      Array.from({ length: CONCURRENT }, () => stream(sink.port, prefix(source, CONCURRENT_BYTES))),
    );
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const aggregate = (CONCURRENT * CONCURRENT_BYTES) / seconds / 1e6;

    const rows = [
      [
        'one stream, 2 GiB image',
        `${single.toFixed(0)} MB/s`,
        '≥ 400 MB/s',
        single >= 400 ? 'met' : 'MISSED',
      ],
      [
        `${CONCURRENT} concurrent streams × 256 MiB`,
        `${aggregate.toFixed(0)} MB/s aggregate`,
        '≥ 400 MB/s',
        aggregate >= 400 ? 'met' : 'MISSED',
      ],
      [
        'RSS growth, one 2 GiB stream',
        `${rssGrowth.toFixed(1)} MB`,
        '< 64 MB',
        rssGrowth < 64 ? 'met' : 'MISSED',
      ],
    ];
    const body = [
      'ASR payload (0x20000-byte chunks, SHA-1 per chunk) from a stored member of a synthetic IPSW, read with',
      '`IpswArchive.memberSource` and sent by `AsrSender` over loopback TCP to a sink process that plays the',
      `device (Initiate, packet info, Payload) and counts bytes (${bytes} wire bytes for the 2 GiB stream, ${all[0]} per 256 MiB stream).`,
      '',
      table(['measure', 'result', 'target', ''], rows),
    ].join('\n');
    process.stdout.write(`${body}\n`);
    record(ROOT, 'ASR filesystem stream (bench:asr)', 'npm run bench:asr', body);
  } finally {
    sink.close();
    await archive.close();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench:asr failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
