// The job contract between the producer (server, or the agent's auto-start) and the port's
// worker. The payload is only the run id: the database row is the record (design §4).
import { z } from 'zod';
import { STAGES } from '@bench/bench-domain';

export const RESTORE_JOB_NAME = 'restore';

export const RestoreJobDataSchema = z.strictObject({
  runId: z.string().uuid(),
  /** The engine's checkpoint, written by the worker (BullMQ step-job pattern). */
  checkpoint: z
    .strictObject({
      restoreCompleted: z.boolean().optional(),
      lastStage: z.enum(STAGES).optional(),
    })
    .optional(),
  /** When the phone went missing from the port, while the run waits for it (ms since the epoch). */
  missingSince: z.number().int().nonnegative().optional(),
});

export type RestoreJobData = z.infer<typeof RestoreJobDataSchema>;

export class JobDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobDataError';
  }
}

/** Validates a payload when the worker takes the job: bad data is refused, never guessed at. */
export function parseRestoreJobData(data: unknown): RestoreJobData {
  const parsed = RestoreJobDataSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobDataError(`restore job data ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}
