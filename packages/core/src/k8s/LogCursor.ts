/**
 * Where a container's log was read up to, so that a resumed read neither loses nor repeats a line.
 *
 * Facts it rests on (Kubernetes API, `pods/log`): with `timestamps=true` each line starts with the
 * kubelet's RFC 3339 timestamp; `sinceTime` has whole-second resolution and returns the lines from
 * that second on, in the order they were written; the log belongs to one container instance
 * (`containerID`). So the cursor is (containerID, the last line's whole second, how many lines of
 * that second were read): a resume asks for `sinceTime = second` and skips that many lines of that
 * second. A different containerID is another log: it is read from its start.
 *
 * Pure: no I/O. `LogFollow.ts` drives it.
 *
 * @module
 */

/** A log position. `second` is ISO 8601 UTC whole seconds (`2026-12-03T09:45:00Z`); null: nothing read yet. */
export interface LogCursor {
  /** The container instance whose log this is (`containerStatuses[].containerID`); null: none yet. */
  readonly containerId: string | null
  readonly second: string | null
  /** Lines read whose timestamp is in `second` (>= 1 once a line was read). */
  readonly count: number
}

/** Nothing read. */
export const emptyCursor: LogCursor = { containerId: null, second: null, count: 0 }

const rfc3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/i

/** The epoch second of an RFC 3339 timestamp (any fraction, any offset); null when it is not one. */
export const epochSecond = (timestamp: string): number | null => {
  const m = rfc3339.exec(timestamp)
  if (m === null) return null
  const ms = Date.parse(`${m[1]}${m[2]!.toUpperCase()}`)
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000)
}

/** ISO 8601 UTC text of an epoch second: `2026-12-03T09:45:00Z`. */
export const secondText = (epoch: number): string => new Date(epoch * 1000).toISOString().replace(".000Z", "Z")

/** The cursor after one more line with this timestamp. A timestamp that cannot be read counts in the cursor's second. */
export const advance = (cursor: LogCursor, timestamp: string): LogCursor => {
  const epoch = epochSecond(timestamp)
  const current = cursor.second === null ? null : epochSecond(cursor.second)
  if (epoch === null || (current !== null && epoch <= current)) return { ...cursor, count: cursor.count + 1 }
  return { containerId: cursor.containerId, second: secondText(epoch), count: 1 }
}

/** One read of a container's log: what to ask for and what of its answer was already read. */
export interface LogRead {
  /** The request's `sinceTime` (null: from the start). */
  readonly sinceTime: string | null
  /** Lines of this second still to skip (already read before); null when nothing is skipped. */
  readonly skip: { readonly epoch: number; readonly remaining: number } | null
  /** The cursor after the lines of this read accepted so far. */
  readonly cursor: LogCursor
}

/**
 * Starts a read of `containerId`'s log from `cursor`. Another container than the cursor's (or a
 * cursor with nothing read) reads from the start with a cursor reset to that container.
 */
export const beginRead = (cursor: LogCursor, containerId: string): LogRead => {
  if (cursor.containerId !== containerId || cursor.second === null) {
    return { sinceTime: null, skip: null, cursor: { containerId, second: null, count: 0 } }
  }
  const epoch = epochSecond(cursor.second)
  if (epoch === null) return { sinceTime: null, skip: null, cursor: { containerId, second: null, count: 0 } }
  return { sinceTime: cursor.second, skip: { epoch, remaining: cursor.count }, cursor }
}

/**
 * Takes the next line of a read: `emit` is false for a line read before (a line of the cursor's
 * second among the first `count` of the answer, or one older than the cursor's second).
 */
export const acceptLine = (read: LogRead, timestamp: string): { readonly emit: boolean; readonly read: LogRead } => {
  if (read.skip !== null) {
    const epoch = epochSecond(timestamp)
    if (epoch !== null && epoch < read.skip.epoch) return { emit: false, read }
    if (epoch === read.skip.epoch && read.skip.remaining > 0) {
      return { emit: false, read: { ...read, skip: { epoch, remaining: read.skip.remaining - 1 } } }
    }
  }
  return { emit: true, read: { sinceTime: read.sinceTime, skip: null, cursor: advance(read.cursor, timestamp) } }
}
