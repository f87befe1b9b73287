// Every error the API answers has one shape (ErrorBody): status, the HTTP reason, a sentence a
// technician can act on, and for invalid input the list of what was wrong. Unexpected errors are
// logged with their stack and answered as 500 without internals.
import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { ErrorBody } from '@bench/events';
import type { Logger } from '@bench/logging';
import { isDatabaseUnavailable } from '@bench/persistence';

export class ValidationFailed extends HttpException {
  constructor(readonly details: string[]) {
    super(`invalid request: ${details.join('; ')}`, HttpStatus.BAD_REQUEST);
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  if (response && typeof response === 'object' && 'message' in response) {
    const message = (response as { message: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  return exception.message;
}

@Catch()
export class ErrorBodyFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.bodyOf(exception);
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }

  private bodyOf(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      if (statusCode === 400 && exception.cause instanceof SyntaxError)
        return { statusCode, error: 'Bad Request', message: `invalid JSON body: ${exception.cause.message}` };
      return {
        statusCode,
        error: STATUS_CODES[statusCode] ?? 'Error',
        message: messageOf(exception),
        ...(exception instanceof ValidationFailed ? { details: exception.details } : {}),
      };
    }
    // Malformed JSON from body-parser arrives as a plain error with a status.
    if (exception instanceof SyntaxError && 'status' in exception && exception.status === 400) {
      return { statusCode: 400, error: 'Bad Request', message: `invalid JSON body: ${exception.message}` };
    }
    // An outage, not a bug: say so (503) and keep the log to one line per request.
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${lastLine(exception)}`);
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'database unavailable: the record cannot be read or written now; try again shortly',
      };
    }
    const error = exception instanceof Error ? exception : new Error(String(exception));
    this.logger.error(`unhandled error: ${error.message}`, { err: error });
    return { statusCode: 500, error: 'Internal Server Error', message: 'internal error; see the server log' };
  }
}

/** Prisma's messages start with the call site; the cause is on the last line. */
function lastLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.trim().split('\n').at(-1) ?? message;
}
