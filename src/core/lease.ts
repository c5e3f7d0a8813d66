/**
 * Thrown by holdLease when this run no longer holds its job: a worker that was paused longer than its lock
 * finds another worker carrying the rollback on. The run stops before changing anything and records nothing;
 * the run that holds the job tells the story.
 */
export class LeaseLostError extends Error {
  constructor(message = 'this worker no longer holds the job: another worker took it over') {
    super(message);
    this.name = 'LeaseLostError';
  }
}
