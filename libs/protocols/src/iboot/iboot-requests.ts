// The control requests of iBoot, SecureROM DFU and recovery (restore-protocol.md §2.1), and the
// encoding of iBoot commands: ASCII plus a trailing NUL in a vendor OUT request.
import { ProtocolError } from '../errors';

/** A USB control setup without wLength (the data or the requested length carries it). */
export interface IBootControlSetup {
  bmRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
}

function setup(bmRequestType: number, bRequest: number, wValue = 0, wIndex = 0): IBootControlSetup {
  return { bmRequestType, bRequest, wValue, wIndex };
}

export const IBootRequest = {
  /** Vendor OUT, device: an iBoot command (ASCII + NUL). */
  command: setup(0x40, 0),
  /** The same with bRequest 1, used for commands that jump away (`go`, `bootx`, `reset`). */
  jumpCommand: setup(0x40, 1),
  /** Vendor IN: the reply to the last command (`getenv`, `getret`), NUL-terminated, 255 bytes asked. */
  readReply: setup(0xc0, 0),
  /** Vendor OUT, interface: "prepare to receive" before a recovery-mode bulk upload. */
  startUpload: setup(0x41, 0),
  /** DFU class requests (bmRequestType 0x21 OUT / 0xA1 IN, interface 0). */
  dfuDnload: (block: number): IBootControlSetup => setup(0x21, 1, block),
  dfuUpload: setup(0xa1, 2),
  dfuGetStatus: setup(0xa1, 3),
  dfuClrStatus: setup(0x21, 4),
  dfuGetState: setup(0xa1, 5),
  dfuAbort: setup(0x21, 6),
} as const;

/** bRequest values of the DFU class requests, for a device deciding what it was sent. */
export const DfuRequestCode = {
  dnload: 1,
  upload: 2,
  getStatus: 3,
  clrStatus: 4,
  getState: 5,
  abort: 6,
} as const;

export const IBOOT_REPLY_LENGTH = 255;
/** Bulk OUT endpoint of recovery uploads. */
export const RECOVERY_UPLOAD_ENDPOINT = 0x04;
/** Bulk IN endpoint of the iBoot console (interface 1, alternate setting 1). */
export const IBOOT_CONSOLE_ENDPOINT = 0x81;
export const IBOOT_CONSOLE_INTERFACE = 1;
export const IBOOT_CONSOLE_ALT_SETTING = 1;

/** libirecovery's timeouts (ms): every transfer, console reads, the zero-length DNLOAD "kick". */
export const IBootTimeouts = {
  usb: 10_000,
  console: 500,
  kick: 5_000,
} as const;

/** iBoot takes commands shorter than 256 characters (libirecovery refuses longer ones). */
export const MAX_IBOOT_COMMAND_LENGTH = 255;

/** Commands that make iBoot jump away; sent with bRequest 1. */
const JUMP_COMMANDS = new Set(['go', 'bootx', 'reset']);

export function commandVerb(command: string): string {
  return command.trimStart().split(/\s+/, 1)[0] ?? '';
}

export function isJumpCommand(command: string): boolean {
  return JUMP_COMMANDS.has(commandVerb(command));
}

export interface EncodedIBootCommand {
  setup: IBootControlSetup;
  /** ASCII text and a trailing NUL. */
  data: Buffer;
}

export function encodeIBootCommand(command: string): EncodedIBootCommand {
  if (command.length === 0 || command.length > MAX_IBOOT_COMMAND_LENGTH) {
    throw new RangeError(
      `an iBoot command must be 1–${MAX_IBOOT_COMMAND_LENGTH} characters, got ${command.length}`,
    );
  }
  if (!/^[\x20-\x7e]+$/.test(command)) {
    throw new RangeError(`an iBoot command must be printable ASCII: ${JSON.stringify(command)}`);
  }
  const data = Buffer.alloc(command.length + 1);
  data.write(command, 'latin1');
  return { setup: isJumpCommand(command) ? IBootRequest.jumpCommand : IBootRequest.command, data };
}

/** The device side: the command text from a vendor OUT request's data. */
export function decodeIBootCommand(data: Uint8Array): string {
  const what = 'iBoot command';
  if (data.length === 0 || data.length > MAX_IBOOT_COMMAND_LENGTH + 1) {
    throw new ProtocolError(`${what} of ${data.length} bytes (expected 2–256 with its NUL)`, what);
  }
  const end = data.indexOf(0);
  const text = Buffer.from(data.buffer, data.byteOffset, end === -1 ? data.length : end).toString('latin1');
  if (!/^[\x20-\x7e]+$/.test(text)) {
    throw new ProtocolError(`${what} is empty or not printable ASCII: ${JSON.stringify(text)}`, what);
  }
  return text;
}

/** Splits `setenv boot-args rd=md0 -progress` into the verb and its words; `rest` keeps spaces. */
export function splitIBootCommand(command: string): { verb: string; args: string[]; rest: string } {
  const trimmed = command.trim();
  const verb = commandVerb(trimmed);
  const rest = trimmed.slice(verb.length).trimStart();
  return { verb, args: rest.length ? rest.split(/\s+/) : [], rest };
}

/** A reply read with 0xC0: text up to the first NUL. */
export function decodeIBootReply(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, end === -1 ? bytes.length : end).toString('latin1');
}

/** The device side of 0xC0: the text and its NUL, cut to what the host asked for. */
export function encodeIBootReply(text: string, wLength: number): Buffer {
  const full = Buffer.alloc(Buffer.byteLength(text, 'latin1') + 1);
  full.write(text, 'latin1');
  return full.subarray(0, Math.max(0, wLength));
}
