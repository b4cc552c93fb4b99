/** A record of the dataEventRecords API (`GET /api/DataEventRecords/{id}`). */
export interface DataEventRecord {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** ISO 8601 date-time. */
  readonly timestamp: string;
}

/** What the form edits; the service adds `timestamp` (and `id` on update). */
export interface DataEventRecordInput {
  readonly name: string;
  readonly description: string;
}

/** Client-side limits of the form; the API has the last word and its `error_description` is shown. */
export const NAME_MAX_LENGTH = 100;
export const DESCRIPTION_MAX_LENGTH = 1000;
