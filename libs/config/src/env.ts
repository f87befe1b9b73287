// The only module that reads process.env (habit 9). Everything else receives a BenchEnv.
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error';

const port = z.coerce.number().int().min(0).max(65535);
const hostPort = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:6379');

const EnvSchema = z.object({
  BENCH_HOME: z.string().optional(),
  BENCH_CONFIG: z.string().optional(),
  BENCH_HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-"')
    .optional(),
  BENCH_SERVER_PORT: port.default(8080),
  BENCH_SERVER_BIND: z.string().default('0.0.0.0'),
  // A server that only serves browsers (the other servers on the same Redis relay live updates).
  BENCH_LIVE_RELAY: z.enum(['true', 'false'], 'expected true or false').default('true'),
  BENCH_AGENT_PORT: port.default(8081),
  BENCH_AGENT_BIND: z.string().default('127.0.0.1'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected redis://HOST:PORT or rediss://…')
    .optional(),
  BENCH_REDIS_PROBE: hostPort.default('127.0.0.1:6379'),
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, 'expected file:PATH (SQLite) or postgresql://…')
    .optional(),
  BENCH_FIRMWARE_DIR: z.string().optional(),
  BENCH_FIRMWARE_CACHE_GB: z.coerce.number().positive().default(100),
  BENCH_TSS_URL: z.string().url().default('http://gs.apple.com/TSS/controller?action=2'),
  BENCH_CATALOG_URL: z.string().url().default('https://api.ipsw.me/v4'),
  USBMUXD_SOCKET_ADDRESS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  PATH: z.string().default(''),
  BENCH_SIMULATE: z.coerce.number().int().min(0).max(512).default(0),
  BENCH_SIM_SPEED: z.coerce.number().positive().default(60),
  BENCH_SIM_FAULTS: z.string().optional(),
  BENCH_SIM_SEED: z.coerce.number().int().min(0).default(1),
  BENCH_SIM_OS_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  BENCH_SIM_START_MODE: z.enum(['normal', 'recovery', 'dfu', 'restore']).default('normal'),
  /** Simulated USB layout: ports per host controller, and each controller's bandwidth. */
  BENCH_SIM_PORTS_PER_CONTROLLER: z.coerce.number().int().min(1).max(128).optional(),
  BENCH_SIM_CONTROLLER_MBPS: z.coerce.number().positive().optional(),
  BENCH_SIM_REMOTE: z
    .string()
    .regex(/^http:\/\/[^/\s]+\/?$/, 'expected the control URL of a running simulator, http://HOST:PORT')
    .optional(),
  BENCH_UPLOADS_PER_CONTROLLER: z.coerce.number().int().min(1).max(64).default(2),
  BENCH_HEALTH_INTERVAL_S: z.coerce.number().positive().default(30),
  /** The shop named on reports and restore certificates (default: the host id). */
  BENCH_SHOP_NAME: z.string().trim().min(1, 'expected a shop name').max(200).optional(),
  /** The shop's Ed25519 private key (PEM) that signs certificates; created on first use. */
  BENCH_SHOP_KEY: z.string().min(1).optional(),
  /** Where API commands (`bench batch`) reach the server (default: this PC's running `bench start`). */
  BENCH_SERVER_URL: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(:\d{1,5})?\/?$/, 'expected http://HOST:PORT')
    .optional(),
  /** An API token (made by an admin: POST /api/tokens) for API commands, instead of a login. */
  BENCH_API_TOKEN: z.string().min(1).optional(),
});

export type DatabaseKind = 'sqlite' | 'postgresql';

export interface BenchEnv {
  home: string;
  varDir: string;
  configFile: string;
  hostId: string;
  server: { port: number; bind: string; liveRelay: boolean };
  agent: { port: number; bind: string };
  redis: { url?: string; probe: { host: string; port: number } };
  database: { kind: DatabaseKind; url: string; sqliteFile?: string };
  firmware: { dir: string; cacheLimitBytes: number; tssUrl: string; catalogUrl: string };
  usbmuxdSocketAddress?: string;
  /** Directories searched for helper programs (PATH plus the sbin directories). */
  searchPath: string;
  /** `bench start --simulate N`: the agent drives N simulated phones instead of the USB bus. */
  simulate?: {
    phones: number;
    speed: number;
    faults?: string;
    seed: number;
    osSize: number;
    startMode: 'normal' | 'recovery' | 'dfu' | 'restore';
    /** Ports per simulated controller and its bandwidth (default: the stock layout, USB 2.0). */
    portsPerController?: number;
    controllerBps?: number;
  };
  /**
   * The agent drives a simulated bench running in another process (its control API), through
   * the real usbmuxd and TSS clients: benchmarks keep the simulator's CPU out of the agent's.
   */
  simRemote?: { controlUrl: string };
  agentTuning: { uploadsPerController: number; healthIntervalMs: number };
  /** Who signs restore certificates: the shop's name, its private key and the public key exported beside it. */
  shop: { name: string; keyFile: string; publicKeyFile: string };
  log: { level: z.infer<typeof EnvSchema>['LOG_LEVEL']; pretty: boolean };
  /** How CLI commands that call the API reach the server and sign in. */
  apiClient: { serverUrl?: string; token?: string };
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BenchEnv {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      return `  ${key}=${JSON.stringify(source[key] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.BENCH_SIM_REMOTE && e.BENCH_SIMULATE > 0) {
    throw new ConfigError(
      'invalid environment:\n  BENCH_SIM_REMOTE and BENCH_SIMULATE exclude each other (a remote simulator or one in the agent)',
    );
  }
  const home = path.resolve(cwd, e.BENCH_HOME ?? '.');
  const varDir = path.join(home, 'var');
  const [probeHost, probePort] = e.BENCH_REDIS_PROBE.split(':');
  const databaseUrl = e.DATABASE_URL ?? `file:${path.join(varDir, 'bench.db')}`;
  const kind: DatabaseKind = databaseUrl.startsWith('file:') ? 'sqlite' : 'postgresql';
  return {
    home,
    varDir,
    configFile: path.resolve(home, e.BENCH_CONFIG ?? 'bench.config.yaml'),
    hostId: e.BENCH_HOST_ID ?? sanitizeHostname(hostname()),
    server: {
      port: e.BENCH_SERVER_PORT,
      bind: e.BENCH_SERVER_BIND,
      liveRelay: e.BENCH_LIVE_RELAY === 'true',
    },
    agent: { port: e.BENCH_AGENT_PORT, bind: e.BENCH_AGENT_BIND },
    redis: { url: e.REDIS_URL, probe: { host: probeHost, port: Number(probePort) } },
    database: {
      kind,
      url: databaseUrl,
      sqliteFile: kind === 'sqlite' ? path.resolve(home, databaseUrl.slice('file:'.length)) : undefined,
    },
    firmware: {
      dir: path.resolve(home, e.BENCH_FIRMWARE_DIR ?? path.join(varDir, 'firmware')),
      cacheLimitBytes: Math.round(e.BENCH_FIRMWARE_CACHE_GB * 1024 ** 3),
      tssUrl: e.BENCH_TSS_URL,
      catalogUrl: e.BENCH_CATALOG_URL,
    },
    usbmuxdSocketAddress: e.USBMUXD_SOCKET_ADDRESS,
    searchPath: [e.PATH, '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean).join(path.delimiter),
    simulate:
      e.BENCH_SIMULATE > 0
        ? {
            phones: e.BENCH_SIMULATE,
            speed: e.BENCH_SIM_SPEED,
            faults: e.BENCH_SIM_FAULTS,
            seed: e.BENCH_SIM_SEED,
            osSize: e.BENCH_SIM_OS_SIZE,
            startMode: e.BENCH_SIM_START_MODE,
            portsPerController: e.BENCH_SIM_PORTS_PER_CONTROLLER,
            controllerBps:
              e.BENCH_SIM_CONTROLLER_MBPS === undefined ? undefined : e.BENCH_SIM_CONTROLLER_MBPS * 1e6,
          }
        : undefined,
    simRemote: e.BENCH_SIM_REMOTE ? { controlUrl: e.BENCH_SIM_REMOTE.replace(/\/$/, '') } : undefined,
    agentTuning: {
      uploadsPerController: e.BENCH_UPLOADS_PER_CONTROLLER,
      healthIntervalMs: e.BENCH_HEALTH_INTERVAL_S * 1000,
    },
    shop: shopOf(
      e.BENCH_SHOP_NAME ?? e.BENCH_HOST_ID ?? sanitizeHostname(hostname()),
      home,
      varDir,
      e.BENCH_SHOP_KEY,
    ),
    log: {
      level: e.LOG_LEVEL,
      pretty: e.LOG_FORMAT ? e.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY),
    },
    apiClient: { serverUrl: e.BENCH_SERVER_URL?.replace(/\/$/, ''), token: e.BENCH_API_TOKEN },
  };
}

/** The public key sits beside the private one: `shop-ed25519.pem` → `shop-ed25519.pub.pem`. */
function shopOf(name: string, home: string, varDir: string, keyFile?: string): BenchEnv['shop'] {
  const key = path.resolve(home, keyFile ?? path.join(varDir, 'keys', 'shop-ed25519.pem'));
  return { name, keyFile: key, publicKeyFile: key.replace(/(\.pem)?$/, '.pub.pem') };
}

function sanitizeHostname(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
  return cleaned || 'bench-host';
}

/** The environment for a child process: ours plus `overrides` (e.g. the resolved REDIS_URL). */
export function childEnvironment(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
