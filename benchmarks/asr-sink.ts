// The device end of the ASR benchmark, in its own process: on each connection it sends Initiate
// (checksum chunks on), reads the packet info, asks for Payload and swallows the stream.
// It checks the byte count (not the content: the benchmark measures the host side).
import net from 'node:net';
import {
  asrDeviceMessages,
  asrWireLength,
  decodeAsrPacketInfo,
  decodePlistDict,
  encodePlistXml,
} from '@bench/protocols';

const server = net.createServer((socket) => {
  let phase: 'info' | 'payload' = 'info';
  let expected = 0;
  let received = 0;
  let text = '';
  socket.write(encodePlistXml(asrDeviceMessages.initiate(true)));
  socket.on('data', (chunk: Buffer) => {
    if (phase === 'info') {
      text += chunk.toString('latin1');
      const end = text.indexOf('</plist>');
      if (end < 0) return;
      const info = decodeAsrPacketInfo(decodePlistDict(Buffer.from(text.slice(0, end + 8), 'latin1')));
      expected = asrWireLength(info.payloadSize, info.checksumChunkSize !== undefined);
      received = Buffer.byteLength(text.slice(end + 8).replace(/^\s+/, ''), 'latin1');
      phase = 'payload';
      socket.write(encodePlistXml(asrDeviceMessages.payload()));
      return;
    }
    received += chunk.length;
    if (received >= expected) socket.end();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => process.send?.({ type: 'stream', received, expected }));
});
server.listen(0, '127.0.0.1', () =>
  process.send?.({ type: 'listening', port: (server.address() as net.AddressInfo).port }),
);
process.on('disconnect', () => process.exit(0));
