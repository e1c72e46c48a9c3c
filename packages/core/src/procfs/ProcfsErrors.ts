/**
 * Errors of the process table boundary ({@link ProcessTable}).
 *
 * Only two things are failures: the process table cannot be read at all (not Linux, `/proc` not
 * mounted or unreadable) and the kernel refusing a signal (EPERM). A process that does not exist
 * is never an error: lookups answer `Option.none()` and signals answer `"no-such-process"`.
 *
 * @module
 */
import * as Schema from "effect/Schema"
/**
 * The process table cannot be read: the platform is not Linux, `/proc` is not mounted, or a file
 * every Linux system has (`/proc/stat`, `/proc`) could not be read.
 *
 * `path` is the file or directory we tried, `code` the Node/errno code when there was one
 * (`"ENOENT"`, `"EACCES"`, ...), `platform` is Node's `process.platform`.
 */
export class ProcfsUnavailable extends Schema.TaggedError<ProcfsUnavailable>()("ProcfsUnavailable", {
  message: Schema.String,
  path: Schema.String,
  code: Schema.NullOr(Schema.String),
  platform: Schema.String
}) {}

/**
 * The kernel refused to deliver a signal: kill(2) failed with EPERM, i.e. the caller may not
 * signal that process (another user's process, or a protected one). For a group signal, EPERM
 * means no member of the group could be signalled (kill(2): "EPERM ... for any of the target
 * processes").
 *
 * `target` is `"process"` for kill(pid) and `"group"` for kill(-pgid); `id` is the pid or pgid.
 */
export class SignalNotPermitted extends Schema.TaggedError<SignalNotPermitted>()("SignalNotPermitted", {
  message: Schema.String,
  target: Schema.Literals(["process", "group"]),
  id: Schema.Number,
  signal: Schema.String
}) {}
