// The restore log a device keeps (what StatusMsg `Log` and PreviousRestoreLogMsg carry): one
// line per step, stamped with simulated time since the restore began, so a failure report
// reads like the tail of a real restored log.
import type { SimPhone } from '../phone/sim-phone';

export class DeviceLog {
  private readonly lines: string[] = [];
  private readonly startedAt = Date.now();

  constructor(private readonly phone: SimPhone) {
    this.line(`restored for ${phone.identity.model.hardwareModel} (ECID 0x${phone.identity.ecidHex})`);
  }

  line(text: string): void {
    const simulatedMs = (Date.now() - this.startedAt) * this.phone.clock.speed;
    const seconds = (simulatedMs / 1000).toFixed(3).padStart(9, ' ');
    this.lines.push(`[${seconds}] ${text}`);
  }

  get text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
