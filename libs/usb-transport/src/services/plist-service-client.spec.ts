import { Duplex, PassThrough } from 'node:stream';
import { CancelledError } from '@bench/bench-domain';
import {
  decodePlistDict,
  encodeBigEndianLengthPrefixed,
  encodePlistBinary,
  encodePlistXml,
  FrameDecoder,
  framePayload,
  plistServiceFormat,
} from '@bench/protocols';
import { PlistServiceClient } from './plist-service-client';
import { DeviceServiceError } from './service-errors';

function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const device = Duplex.from({ readable: aToB, writable: bToA });
  device.on('error', () => undefined);
  return [Duplex.from({ readable: bToA, writable: aToB }), device];
}

describe('PlistServiceClient', () => {
  it('writes XML with a 4-byte big-endian length and reads XML or binary replies in order', async () => {
    const [host, device] = duplexPair();
    const client = new PlistServiceClient(host, { service: 'lockdownd' });
    const written: Buffer[] = [];
    device.on('data', (chunk: Buffer) => written.push(chunk));
    await client.send({ Request: 'QueryType' });
    const [frame] = new FrameDecoder(plistServiceFormat()).push(Buffer.concat(written));
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    expect(framePayload(frame).subarray(0, 5).toString()).toBe('<?xml');
    expect(decodePlistDict(framePayload(frame))).toEqual({ Request: 'QueryType' });

    device.write(encodeBigEndianLengthPrefixed(encodePlistBinary({ Type: 'binary' })));
    device.write(encodeBigEndianLengthPrefixed(encodePlistXml({ Type: 'xml' })).subarray(0, 10));
    const first = client.receive();
    const second = client.receive();
    device.write(encodeBigEndianLengthPrefixed(encodePlistXml({ Type: 'xml' })).subarray(10));
    await expect(first).resolves.toEqual({ Type: 'binary' });
    await expect(second).resolves.toEqual({ Type: 'xml' });
    client.close();
  });

  it('times out a receive as transient-usb, and cancels it on abort', async () => {
    const [host] = duplexPair();
    const client = new PlistServiceClient(host, { service: 'restored', receiveTimeoutMs: 20 });
    await expect(client.receive()).rejects.toMatchObject({ kind: 'timeout', failureClass: 'transient-usb' });
    const controller = new AbortController();
    const pending = client.receive({ timeoutMs: 0, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    client.close();
  });

  it('refuses a frame announcing 4 GiB without buffering it, and fails every later call', async () => {
    const [host, device] = duplexPair();
    const client = new PlistServiceClient(host, { maxFrameBytes: 1024 });
    const pending = client.receive();
    device.write(Buffer.from('ffffffff3c3f786d6c', 'hex'));
    await expect(pending).rejects.toMatchObject({ kind: 'malformed' });
    await expect(client.receive()).rejects.toBeInstanceOf(DeviceServiceError);
    await expect(client.send({ a: 1 })).rejects.toBeInstanceOf(DeviceServiceError);
    expect(host.destroyed).toBe(true);
  });

  it('delivers what arrived before the device closed, then reports the close', async () => {
    const [host, device] = duplexPair();
    const client = new PlistServiceClient(host);
    device.end(encodeBigEndianLengthPrefixed(encodePlistXml({ MsgType: 'StatusMsg', Status: 0 })));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(client.receive()).resolves.toEqual({ MsgType: 'StatusMsg', Status: 0 });
    await expect(client.receive()).rejects.toMatchObject({ kind: 'closed', failureClass: 'transient-usb' });
  });
});
