/**
 * A peer sent bytes that do not decode: a malformed plist or frame, a frame too large, a
 * message missing a required field. `what` names the thing that was wrong.
 */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly what: string,
  ) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export class FrameTooLargeError extends ProtocolError {
  constructor(
    readonly announced: number,
    readonly limit: number,
    what: string,
  ) {
    super(`${what} announces ${announced} bytes, more than the ${limit}-byte limit`, what);
  }
}
