import type { LoggerService } from '@nestjs/common';
import type { Logger } from './logger';

/** Lets Nest's own messages go through our logger (same format, same context). */
export class NestLoggerAdapter implements LoggerService {
  constructor(private readonly logger: Logger) {}

  // Nest's own start-up chatter (modules loaded, routes mapped) is debug for us.
  log(message: unknown, context?: string): void {
    this.for(context).debug(text(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.for(context).error(text(message), trace ? { trace } : undefined);
  }
  warn(message: unknown, context?: string): void {
    this.for(context).warn(text(message));
  }
  debug(message: unknown, context?: string): void {
    this.for(context).debug(text(message));
  }
  verbose(message: unknown, context?: string): void {
    this.for(context).trace(text(message));
  }

  private for(context?: string): Logger {
    return context ? this.logger.child({ component: context }) : this.logger;
  }
}

function text(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.stack ?? message.message;
  return JSON.stringify(message);
}
