// The agent's ports: the slots configured for this host in bench.config.yaml, the simulated
// bench's ports in simulation, and any other port a phone shows up on (an unlabelled slot).
import { DEFAULT_RETRY_POLICY, type RestoreBehavior, type RetryPolicy } from '@bench/bench-domain';
import type { BenchConfig, BenchEnv } from '@bench/config';

export interface PortInfo {
  portPath: string;
  label?: string;
  benchId: string;
  benchName: string;
  gridRow?: number;
  gridCol?: number;
  policy: RetryPolicy;
  autoStart?: { firmware: string; behavior: RestoreBehavior };
}

export interface BenchTopology {
  id: string;
  name: string;
  slots: { portPath: string; label?: string; gridRow?: number; gridCol?: number }[];
}

export class PortRegistry {
  private readonly ports = new Map<string, PortInfo>();
  private readonly unassignedBench: string;

  constructor(env: BenchEnv, config: BenchConfig, simulatedPorts: string[] = []) {
    this.unassignedBench = `${env.hostId}-unassigned`;
    const host = config.hosts.find((h) => h.id === env.hostId);
    for (const bench of host?.benches ?? []) {
      const policy = config.policies[bench.policy ?? 'default'] ?? DEFAULT_RETRY_POLICY;
      for (const slot of bench.slots) {
        const autoStart =
          slot.autoStart === null ? undefined : (slot.autoStart ?? bench.autoStart ?? undefined);
        this.ports.set(slot.port, {
          portPath: slot.port,
          label: slot.label,
          benchId: bench.id,
          benchName: bench.name ?? bench.id,
          gridRow: slot.grid?.row,
          gridCol: slot.grid?.col,
          policy,
          autoStart: autoStart ? { firmware: autoStart.firmware, behavior: autoStart.behavior } : undefined,
        });
      }
    }
    // A simulated bench: every port is a slot that restores on plug to the newest firmware.
    simulatedPorts.forEach((portPath, index) => {
      if (this.ports.has(portPath)) return;
      this.ports.set(portPath, {
        portPath,
        label: `S${String(index + 1).padStart(2, '0')}`,
        benchId: `${env.hostId}-sim`,
        benchName: 'Simulated bench',
        gridRow: Math.floor(index / 8) + 1,
        gridCol: (index % 8) + 1,
        policy: config.policies.default ?? DEFAULT_RETRY_POLICY,
        autoStart: { firmware: 'latest', behavior: 'erase' },
      });
    });
  }

  all(): PortInfo[] {
    return [...this.ports.values()].sort((a, b) =>
      a.portPath.localeCompare(b.portPath, undefined, { numeric: true }),
    );
  }

  get(portPath: string): PortInfo | undefined {
    return this.ports.get(portPath);
  }

  /** A port that is not configured becomes an unlabelled slot with the default policy. */
  ensure(portPath: string): PortInfo {
    let port = this.ports.get(portPath);
    if (!port) {
      port = {
        portPath,
        benchId: this.unassignedBench,
        benchName: 'Unassigned ports',
        policy: DEFAULT_RETRY_POLICY,
      };
      this.ports.set(portPath, port);
    }
    return port;
  }

  topology(): BenchTopology[] {
    const benches = new Map<string, BenchTopology>();
    for (const port of this.all()) {
      let bench = benches.get(port.benchId);
      if (!bench) {
        bench = { id: port.benchId, name: port.benchName, slots: [] };
        benches.set(port.benchId, bench);
      }
      bench.slots.push({
        portPath: port.portPath,
        label: port.label,
        gridRow: port.gridRow,
        gridCol: port.gridCol,
      });
    }
    return [...benches.values()];
  }
}
