// Turning whatever went wrong into a classified failure with evidence (design §6). Typed errors
// from the transports already carry their class; this adds the stage, and reclassifies the few
// cases only the engine can judge (a phone that died of an empty battery looks like a cable pull
// on the wire).
import {
  BenchError,
  CancelledError,
  PowerError,
  type FailureEvidence,
  type Stage,
} from '@bench/bench-domain';
import { ProtocolError } from '@bench/protocols';

export interface FailureContext {
  stage: Stage;
  lastDeviceMessage?: string;
  /** Evidence that the battery was failing (restored's battery ops, a low reading). */
  batteryFailing?: string;
}

export function classifyFailure(error: unknown, context: FailureContext, signal?: AbortSignal): BenchError {
  if (signal?.aborted && !(error instanceof BenchError && error.failureClass !== 'cancelled')) {
    const reason = signal.reason as unknown;
    if (reason instanceof BenchError) return withStage(reason, context);
    return new CancelledError(
      `cancelled during ${context.stage}`,
      { stage: context.stage },
      { cause: error },
    );
  }
  const evidence: FailureEvidence = { stage: context.stage, lastDeviceMessage: context.lastDeviceMessage };
  if (error instanceof BenchError) {
    if (error.failureClass === 'transient-usb' && context.batteryFailing) {
      return new PowerError(
        `the phone went away during ${context.stage} after ${context.batteryFailing}: its battery is empty`,
        { ...evidence, ...error.evidence, stage: context.stage, detail: error.message },
        { cause: error },
      );
    }
    return withStage(error, context);
  }
  if (error instanceof ProtocolError) {
    return new BenchError(
      `${context.stage}: the device sent something we cannot read: ${error.message}`,
      'unknown',
      evidence,
      {
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BenchError(`${context.stage}: ${message}`, 'unknown', evidence, { cause: error });
}

function withStage(error: BenchError, context: FailureContext): BenchError {
  const evidence = error.evidence as FailureEvidence & { stage?: Stage };
  if (evidence.stage === undefined) evidence.stage = context.stage;
  if (evidence.lastDeviceMessage === undefined && context.lastDeviceMessage !== undefined) {
    evidence.lastDeviceMessage = context.lastDeviceMessage;
  }
  return error;
}
