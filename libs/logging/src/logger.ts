// Structured logging (pino). Every line carries the `[host/port/ecid/run]` context as a prefix
// of the message and as fields, so concurrent restores on one bench read apart.
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LogContext {
  host?: string;
  port?: string;
  ecid?: string;
  run?: string;
  /** The class or module speaking, e.g. `RestoreEngine`. */
  component?: string;
}

export interface LoggerOptions {
  app: string;
  level?: LogLevel;
  pretty?: boolean;
  destination?: DestinationStream;
  context?: LogContext;
}

export class Logger {
  private readonly prefix: string;

  private readonly fields: Record<string, string>;

  constructor(
    private readonly pinoLogger: PinoLogger,
    readonly context: LogContext = {},
  ) {
    this.prefix = formatPrefix(context);
    this.fields = definedOnly(context);
  }

  /** A logger for a narrower context (a port, then a device, then a run). */
  child(context: LogContext): Logger {
    return new Logger(this.pinoLogger, { ...this.context, ...definedOnly(context) });
  }

  get level(): string {
    return this.pinoLogger.level;
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.pinoLogger.isLevelEnabled(level);
  }

  fatal(message: string, fields?: object): void {
    this.pinoLogger.fatal(fields ? { ...this.fields, ...fields } : this.fields, this.line(message));
  }
  error(message: string, fields?: object): void {
    this.pinoLogger.error(fields ? { ...this.fields, ...fields } : this.fields, this.line(message));
  }
  warn(message: string, fields?: object): void {
    this.pinoLogger.warn(fields ? { ...this.fields, ...fields } : this.fields, this.line(message));
  }
  info(message: string, fields?: object): void {
    this.pinoLogger.info(fields ? { ...this.fields, ...fields } : this.fields, this.line(message));
  }
  debug(message: string, fields?: object): void {
    this.pinoLogger.debug(fields ? { ...this.fields, ...fields } : this.fields, this.line(message));
  }
  trace(message: string, fields?: object): void {
    this.pinoLogger.trace(fields ? { ...this.fields, ...fields } : this.fields, this.line(message));
  }

  /** Builds an expensive message (hex dumps) only when debug is on. */
  debugFn(build: () => string): void {
    if (this.pinoLogger.isLevelEnabled('debug')) this.debug(build());
  }

  private line(message: string): string {
    const component = this.context.component ? `${this.context.component}: ` : '';
    return `${this.prefix} ${component}${message}`;
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ??
    (options.pretty
      ? pinoPretty({
          colorize: process.stderr.isTTY,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname,host,port,ecid,run,component',
          destination: 2,
        })
      : pino.destination({ fd: 1, sync: false }));
  const base = pino(
    { level: options.level ?? 'info', base: { app: options.app }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
  return new Logger(base, options.context ?? {});
}

/** `[host/port/ecid/run]` with `-` for what is not known yet. */
export function formatPrefix(context: LogContext): string {
  const part = (value?: string) => (value && value.length > 0 ? value : '-');
  return `[${part(context.host)}/${part(context.port)}/${part(context.ecid)}/${part(context.run)}]`;
}

function definedOnly(context: LogContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(context)) if (value !== undefined) out[key] = value;
  return out;
}
