// The host's pair records, as usbmuxd keeps them (ReadPairRecord / SavePairRecord /
// DeletePairRecord, keyed by UDID) plus the SystemBUID it answers ReadBUID with. In memory, and
// optionally in a directory laid out like /var/lib/lockdown (`<UDID>.plist`,
// `SystemConfiguration.plist`) so records survive a simulator restart.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodePlistDict, encodePlistXml, optionalString } from '@bench/protocols';

/** UDIDs and record ids are hex and dashes; anything else is refused rather than used as a file name. */
const RECORD_ID = /^[A-Za-z0-9-]{1,64}$/;

export class PairRecordStore {
  private readonly records = new Map<string, Buffer>();
  private systemBuid?: string;

  constructor(
    private readonly directory?: string,
    buid?: string,
  ) {
    this.systemBuid = buid;
  }

  static isValidRecordId(id: string): boolean {
    return RECORD_ID.test(id);
  }

  /** Loads the SystemBUID (and, lazily, records) from the directory; makes a BUID when none exists. */
  async open(): Promise<void> {
    if (this.systemBuid) return;
    if (this.directory) {
      const existing = await readOptional(path.join(this.directory, 'SystemConfiguration.plist'));
      if (existing) this.systemBuid = optionalString(decodePlistDict(existing), 'SystemBUID');
    }
    if (!this.systemBuid) {
      this.systemBuid = randomUUID().toUpperCase();
      if (this.directory) {
        await mkdir(this.directory, { recursive: true });
        await writeFile(
          path.join(this.directory, 'SystemConfiguration.plist'),
          encodePlistXml({ SystemBUID: this.systemBuid }),
        );
      }
    }
  }

  get buid(): string {
    if (!this.systemBuid) throw new Error('PairRecordStore.open() was not awaited');
    return this.systemBuid;
  }

  async read(id: string): Promise<Buffer | undefined> {
    if (!PairRecordStore.isValidRecordId(id)) return undefined;
    const cached = this.records.get(id);
    if (cached || !this.directory) return cached;
    const stored = await readOptional(this.fileOf(id));
    if (stored) this.records.set(id, stored);
    return stored;
  }

  async save(id: string, record: Uint8Array): Promise<void> {
    if (!PairRecordStore.isValidRecordId(id))
      throw new RangeError(`bad pair record id ${JSON.stringify(id)}`);
    const bytes = Buffer.from(record);
    this.records.set(id, bytes);
    if (this.directory) {
      await mkdir(this.directory, { recursive: true });
      await writeFile(this.fileOf(id), bytes, { mode: 0o600 });
    }
  }

  /** True when a record existed. */
  async delete(id: string): Promise<boolean> {
    if (!PairRecordStore.isValidRecordId(id)) return false;
    const existed = (await this.read(id)) !== undefined;
    this.records.delete(id);
    if (this.directory) await rm(this.fileOf(id), { force: true });
    return existed;
  }

  private fileOf(id: string): string {
    return path.join(this.directory as string, `${id}.plist`);
  }
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
