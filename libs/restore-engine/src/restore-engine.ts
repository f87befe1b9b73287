import type { RestoreDependencies, RestoreRequest, RestoreResult } from './engine-types';
import { RestoreAttempt } from './restore-attempt';

/** Restores one phone per call (one attempt); the caller's retry policy decides about the next. */
export class RestoreEngine {
  constructor(private readonly deps: RestoreDependencies) {}

  restore(request: RestoreRequest): Promise<RestoreResult> {
    return new RestoreAttempt(this.deps, request).run();
  }
}
