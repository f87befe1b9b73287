#!/usr/bin/python3
"""The usbdevfs side of bench's USB emulation.

Builds a umockdev testbed and keeps it in step with the simulator's USB bridge
(libs/device-sim/src/usb-bridge): it connects to the bridge's Unix socket, reports the testbed
root, adds and removes devices as the bridge says (with uevents), and forwards every usbdevfs
request on a served device (control and bulk URBs, set interface and configuration, reset) to
the bridge, where the simulator's device model answers. Only what the kernel's usbfs layer does
lives here: the URB queue and reaping, interface claims, ENODEV once a device is removed.

Run it under umockdev-wrapper (Testbed.uevent needs the preload to resolve the emulated sysfs):
    umockdev-wrapper /usr/bin/python3 usbdevfs_harness.py BRIDGE_SOCKET
Facts and pitfalls: docs/reference/umockdev-usb-emulation.md (shared docs).
"""
import collections
import errno
import faulthandler
import json
import shutil
import signal
import socket
import struct
import sys
import threading

import gi

gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402

# usbdevfs ioctl numbers on x86_64: _IOC(dir, 'U', nr, size) with dir 1 = write, 2 = read.
def _ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (ord('U') << 8) | nr


_W, _R = 1, 2
SETINTERFACE = _ioc(_R, 4, 8)
SETCONFIGURATION = _ioc(_R, 5, 4)
GETDRIVER = _ioc(_W, 8, 260)
SUBMITURB = _ioc(_R, 10, 56)
DISCARDURB = _ioc(0, 11, 0)
REAPURB = _ioc(_W, 12, 8)
REAPURBNDELAY = _ioc(_W, 13, 8)
CLAIMINTERFACE = _ioc(_R, 15, 4)
RELEASEINTERFACE = _ioc(_R, 16, 4)
CONNECTINFO = _ioc(_W, 17, 8)
IOCTL = _ioc(_R | _W, 18, 16)
RESET = _ioc(0, 20, 0)
CLEAR_HALT = _ioc(_R, 21, 4)
GET_CAPABILITIES = _ioc(_R, 26, 4)
DISCONNECT_CLAIM = _ioc(_R, 27, 264)
DROP_PRIVILEGES = _ioc(_W, 30, 4)
GET_SPEED = _ioc(0, 31, 0)

# ZERO_PACKET | BULK_CONTINUATION | NO_PACKET_SIZE_LIM | BULK_SCATTER_GATHER | REAP_AFTER_DISCONNECT:
# libusb then sends each bulk transfer as one URB, and reaps URBs of a removed device.
CAPABILITIES = 0x1F
URB_CONTROL, URB_BULK = 2, 3
USB_SPEED_HIGH = 3


def _log(text):
    print(f'usbdevfs harness: {text}', file=sys.stderr, flush=True)


class Bridge:
    """The socket to the simulator: 4-byte length, 4-byte header length, JSON header, body."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.lock = threading.Lock()
        self.seq = 0

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def send(self, message, body=b''):
        header = json.dumps(message, separators=(',', ':')).encode()
        frame = struct.pack('>II', 4 + len(header) + len(body), len(header)) + header + body
        with self.lock:
            self.sock.sendall(frame)

    def _read(self, n):
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b''.join(chunks)

    def receive(self):
        (length,) = struct.unpack('>I', self._read(4))
        frame = self._read(length)
        (header_length,) = struct.unpack_from('>I', frame, 0)
        return json.loads(frame[4:4 + header_length]), frame[4 + header_length:]


class Urb:
    """A submitted URB: its IoctlData stays valid after SUBMITURB and is handed back at reap."""

    def __init__(self, seq, client_key, address, data, buffer, length, in_offset, is_in):
        self.seq = seq
        self.client_key = client_key
        self.address = address
        self.data = data
        self.buffer = buffer
        self.room = max(0, length - in_offset)
        self.in_offset = in_offset
        self.is_in = is_in

    def finish(self, status, actual, payload=b''):
        """Status and actual length (data stage only for control), IN data after the setup bytes."""
        if status == 0 and self.is_in:
            payload = payload[:self.room]
            if payload:
                self.buffer.update(self.in_offset, payload)
            actual = len(payload)
        elif status != 0:
            actual = 0
        self.data.update(4, struct.pack('<i', status))
        self.data.update(28, struct.pack('<i', actual))


class ClientState:
    def __init__(self, client):
        self.client = client
        self.pending = {}  # URB address -> Urb
        self.ready = collections.deque()
        self.reaper = None  # a client blocked in REAPURB


class Device:
    """One served enumeration: what usbfs keeps per device and per open file."""

    def __init__(self, harness, dev, devnum, interfaces):
        self.harness = harness
        self.dev = dev
        self.devnum = devnum
        self.interfaces = set(interfaces)
        self.gone = False
        self.claims = {}  # interface -> client key
        self.clients = {}  # client key -> ClientState
        self.lock = threading.RLock()
        self.handler = UMockdev.IoctlBase()
        self.handler.connect('handle-ioctl', self.on_ioctl)

    # ── called on the testbed's worker thread ──

    def on_ioctl(self, _handler, client):
        request = client.get_request()
        try:
            with self.lock:
                self.dispatch(client, request)
        except Exception as error:  # a bug here must not hang the client
            _log(f'{self.dev}: ioctl 0x{request:x}: {error!r}')
            client.complete(-1, errno.EIO)
        return True

    def dispatch(self, client, request):
        reaping = request in (REAPURB, REAPURBNDELAY)
        if not reaping:
            self.sweep()  # not on the reap path: libusb spins on REAPURBNDELAY (pitfall 4)
        state = self.clients.setdefault(hash(client), ClientState(client))
        if reaping:
            return self.reap(client, state, block=request == REAPURB)
        if self.gone:
            return client.complete(-1, errno.ENODEV)
        handler = {
            SUBMITURB: self.submit,
            DISCARDURB: self.discard,
            CLAIMINTERFACE: self.claim,
            RELEASEINTERFACE: self.release,
            SETINTERFACE: self.set_interface,
            SETCONFIGURATION: self.set_configuration,
            RESET: self.reset,
        }.get(request)
        if handler:
            return handler(client, state)
        if request == GET_CAPABILITIES:
            client.get_arg().resolve(0, 4).update(0, struct.pack('<I', CAPABILITIES))
            return client.complete(0, 0)
        if request == CONNECTINFO:
            client.get_arg().resolve(0, 8).update(0, struct.pack('<IB3x', self.devnum, 0))
            return client.complete(0, 0)
        if request == GET_SPEED:
            return client.complete(USB_SPEED_HIGH, 0)
        if request in (GETDRIVER, IOCTL, DISCONNECT_CLAIM):
            return client.complete(-1, errno.ENODATA)  # no kernel driver is bound
        if request in (CLEAR_HALT, DROP_PRIVILEGES):
            return client.complete(0, 0)
        client.complete(-1, errno.ENOTTY)

    def submit(self, client, state):
        arg = client.get_arg()
        (address,) = struct.unpack('<Q', bytes(arg.retrieve()))
        data = arg.resolve(0, 56)
        raw = bytes(data.retrieve())
        kind, endpoint = raw[0], raw[1]
        (length,) = struct.unpack_from('<i', raw, 24)
        if kind not in (URB_CONTROL, URB_BULK) or length < 0:
            return client.complete(-1, errno.EINVAL)
        buffer = data.resolve(16, length) if length > 0 else None
        content = bytes(buffer.retrieve()) if buffer is not None else b''
        seq = self.harness.bridge.next_seq()
        message = {'t': 'urb', 'seq': seq, 'dev': self.dev, 'endpoint': endpoint}
        if kind == URB_CONTROL:
            if length < 8:
                return client.complete(-1, errno.EINVAL)
            bm, request, value, index, w_length = struct.unpack_from('<BBHHH', content, 0)
            is_in = bool(bm & 0x80)
            setup = {'bmRequestType': bm, 'bRequest': request, 'wValue': value, 'wIndex': index,
                     'wLength': w_length}
            message.update(kind='control', setup=setup, length=w_length if is_in else 0)
            body = b'' if is_in else content[8:8 + w_length]
            urb = Urb(seq, hash(client), address, data, buffer, length, 8, is_in)
        else:
            is_in = bool(endpoint & 0x80)
            message.update(kind='bulk', length=length if is_in else 0)
            body = b'' if is_in else content
            urb = Urb(seq, hash(client), address, data, buffer, length, 0, is_in)
        state.pending[address] = urb
        self.harness.track(seq, ('urb', self, urb))
        self.harness.bridge.send(message, body)
        client.complete(0, 0)

    def discard(self, client, state):
        (address,) = struct.unpack('<Q', bytes(client.get_arg().retrieve()))
        urb = state.pending.pop(address, None)
        if urb is None:
            return client.complete(-1, errno.EINVAL)
        self.harness.untrack(urb.seq)
        self.harness.bridge.send({'t': 'cancel', 'seq': urb.seq})
        urb.finish(-errno.ENOENT, 0)
        self.make_ready(state, urb)
        client.complete(0, 0)

    def reap(self, client, state, block):
        if state.ready:
            return self.hand_over(client, state.ready.popleft())
        if self.gone and not state.pending:
            return client.complete(-1, errno.ENODEV)
        if block:
            state.reaper = client
            return None
        return client.complete(-1, errno.EAGAIN)

    @staticmethod
    def hand_over(client, urb):
        # set_ptr makes umockdev write the URB (status, actual length, IN data) back into the
        # client and point its `struct usbdevfs_urb *` at it.
        client.get_arg().resolve(0, 8).set_ptr(0, urb.data)
        client.complete(0, 0)

    def make_ready(self, state, urb):
        state.ready.append(urb)
        if state.reaper is not None:
            reaper, state.reaper = state.reaper, None
            self.hand_over(reaper, state.ready.popleft())

    def claim(self, client, state):
        (interface,) = struct.unpack('<I', bytes(client.get_arg().resolve(0, 4).retrieve()))
        if interface not in self.interfaces:
            return client.complete(-1, errno.ENOENT)
        holder = self.claims.get(interface)
        if holder is not None and holder != hash(client):
            return client.complete(-1, errno.EBUSY)
        self.claims[interface] = hash(client)
        client.complete(0, 0)

    def release(self, client, state):
        (interface,) = struct.unpack('<I', bytes(client.get_arg().resolve(0, 4).retrieve()))
        if self.claims.get(interface) != hash(client):
            return client.complete(-1, errno.EINVAL)
        del self.claims[interface]
        client.complete(0, 0)

    def set_interface(self, client, state):
        interface, alternate = struct.unpack('<II', bytes(client.get_arg().resolve(0, 8).retrieve()))
        self.call(client, 'set-interface', [interface, alternate])

    def set_configuration(self, client, state):
        (value,) = struct.unpack('<i', bytes(client.get_arg().resolve(0, 4).retrieve()))
        self.call(client, 'set-configuration', [max(0, value)])

    def reset(self, client, state):
        self.call(client, 'reset', [])

    def call(self, client, op, args):
        seq = self.harness.bridge.next_seq()
        self.harness.track(seq, ('call', self, client))
        self.harness.bridge.send({'t': 'call', 'seq': seq, 'dev': self.dev, 'op': op, 'args': args})

    def sweep(self):
        """Forgets files that were closed (or whose process died), as usbfs does on release:
        their claims go, their outstanding URBs are cancelled. umockdev 0.17 does not tell when a
        client goes (client-vanished is never emitted), so this runs before each request."""
        for key, state in list(self.clients.items()):
            if state.client.props.connected:
                continue
            del self.clients[key]
            for interface in [i for i, holder in self.claims.items() if holder == key]:
                del self.claims[interface]
            for urb in state.pending.values():
                self.harness.untrack(urb.seq)
                self.harness.bridge.send({'t': 'cancel', 'seq': urb.seq})

    # ── called on the bridge reader thread ──

    def urb_done(self, urb, status, actual, payload):
        with self.lock:
            state = self.clients.get(urb.client_key)
            if state is None or state.pending.pop(urb.address, None) is not urb:
                return  # discarded, or the client closed the device
            urb.finish(status, actual, payload)
            self.make_ready(state, urb)

    def call_done(self, client, status):
        # A reset that ends the enumeration reports ENODEV, as usbfs does for a re-enumerated device.
        with self.lock:
            if status == 0 and self.gone:
                status = -errno.ENODEV
        client.complete(0 if status == 0 else -1, -status)

    def remove(self):
        """The device left the bus: outstanding URBs complete with ENODEV and stay reapable."""
        with self.lock:
            self.gone = True
            for state in self.clients.values():
                for urb in list(state.pending.values()):
                    self.harness.untrack(urb.seq)
                    urb.finish(-errno.ENODEV, 0)
                    state.pending.pop(urb.address, None)
                    self.make_ready(state, urb)
                if state.reaper is not None and not state.ready:
                    reaper, state.reaper = state.reaper, None
                    reaper.complete(-1, errno.ENODEV)


class Harness:
    def __init__(self, socket_path):
        self.testbed = UMockdev.Testbed.new()
        self.root = self.testbed.get_root_dir()
        self.bridge = Bridge(socket_path)
        self.devices = {}  # dev -> (syspath, devnode, Device or None)
        self.tracked = {}  # seq -> what is waiting for the bridge's answer
        self.tracked_lock = threading.Lock()

    def track(self, seq, waiter):
        with self.tracked_lock:
            self.tracked[seq] = waiter

    def untrack(self, seq):
        with self.tracked_lock:
            return self.tracked.pop(seq, None)

    def run(self):
        self.bridge.send({'t': 'hello', 'root': self.root})
        try:
            while True:
                message, body = self.bridge.receive()
                kind = message['t']
                if kind == 'quit':
                    return
                try:
                    getattr(self, 'on_' + kind)(message, body)
                except Exception as error:
                    _log(f'{kind}: {error!r}')
                    self.bridge.send({'t': 'error', 'dev': message.get('dev'), 'message': f'{kind}: {error!r}'})
        except EOFError:
            return
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def on_add(self, message, _body):
        device = None
        if message['serve']:
            device = Device(self, message['dev'], message['devnum'], message['interfaces'])
            # Before the add: the add uevent goes out at once, and a client that opens the node
            # before its handler exists silently gets umockdev's default (ENOTTY) handler.
            self.testbed.attach_ioctl(message['devnode'], device.handler)
        if not self.testbed.add_from_string(message['record']):
            raise RuntimeError(f'umockdev refused the record of {message["dev"]}')
        syspath = '/sys' + message['syspath']
        self.devices[message['dev']] = (syspath, message['devnode'], device)
        self.bridge.send({'t': 'added', 'dev': message['dev']})

    def on_remove(self, message, _body):
        syspath, devnode, device = self.devices.pop(message['dev'])
        if device is not None:
            device.remove()
        # The uevent first: it is built from the device's sysfs directory, which removal deletes.
        self.testbed.uevent(syspath, 'remove')
        self.testbed.remove_device(syspath)
        if device is not None:
            # Open files keep talking to the handler (and get ENODEV); new opens find no node.
            self.testbed.detach_ioctl(devnode)
        self.bridge.send({'t': 'removed', 'dev': message['dev']})

    def on_done(self, message, body):
        waiter = self.untrack(message['seq'])
        if waiter is None:
            return
        kind, device, what = waiter
        if kind == 'urb':
            device.urb_done(what, message['status'], message['actual'], body)
        else:
            device.call_done(what, message['status'])


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    # A test whose testbed stops catching up sends SIGUSR1: every thread's stack goes to stderr
    # (the test's error shows it), so a hang says where it is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    Harness(sys.argv[1]).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
