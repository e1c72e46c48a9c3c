/**
 * `KubernetesApi.watch`: a list, then a watch from its resourceVersion, kept alive across the ways
 * a watch ends (Kubernetes API Concepts, "Efficient detection of changes" and "Watch bookmarks"):
 *
 * - a clean end (the server's `timeoutSeconds`, a proxy's idle cut), a reset, or our inactivity
 *   timer (a dead TCP connection ends no watch; with `allowWatchBookmarks` the server sends a
 *   BOOKMARK about once a minute, so silence means the connection is gone): reconnect at once
 *   from the last resourceVersion seen (events' and bookmarks');
 * - 410 Gone, as HTTP 410 or, for a watch, as HTTP 200 with one `ERROR` event holding a 410
 *   `Expired` Status (the history before the resourceVersion was compacted): relist and emit a
 *   fresh `Synced`;
 * - a failure to connect (refused, 5xx, no answer): retried on the reconnect Schedule, which
 *   starts afresh after every connection that got through. A non-retryable answer (403) fails
 *   the stream, as does the Schedule giving up.
 *
 * Event objects are decoded with client-node's ObjectSerializer, so they are the same model
 * classes (times as `Date`) the typed list and get calls return.
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node"
import { ObjectSerializer } from "./ClientNode.ts"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { KubernetesApiError, WatchEvent, WatchOptions } from "./KubernetesApi.ts"
import { KubernetesUnreachable } from "./KubernetesApi.ts"
import { answerError, bodyLines, openGet, urlOf } from "./KubernetesHttp.ts"
import { decodeStatus, fromHttpStatus, type Operation, timedOut } from "./KubernetesStatus.ts"

/** Default inactivity timeout of a watch connection (ms): a bookmark is due about once a minute. */
export const defaultWatchInactivityMs = 90_000

/** One watch line: `{"type": ..., "object": {...}}`. */
const WatchLine = Schema.Struct({
  type: Schema.Literals(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]),
  object: Schema.Record(Schema.String, Schema.Unknown)
})
const decodeLine = Schema.decodeUnknownOption(Schema.fromJsonString(WatchLine))

const ObjectMeta = Schema.Struct({
  metadata: Schema.optionalKey(Schema.Struct({ resourceVersion: Schema.optionalKey(Schema.String) }))
})
const decodeMeta = Schema.decodeUnknownOption(ObjectMeta)

const resourceVersionOf = (object: unknown): string | null => {
  const meta = decodeMeta(object)
  return Option.isSome(meta) ? meta.value.metadata?.resourceVersion ?? null : null
}

/** What one kind's watch needs from the live layer. */
export interface WatchTarget<A> {
  readonly kc: KubeConfig
  readonly server: string
  /** The collection's path, e.g. `/apis/batch/v1/namespaces/team-a/jobs`. */
  readonly path: string
  /** client-node's model name of the objects, e.g. `V1Job`. */
  readonly model: string
  /** The typed list (same selectors): the items and the list's resourceVersion. */
  readonly list: Effect.Effect<{ readonly items: ReadonlyArray<A>; readonly resourceVersion: string }, KubernetesApiError>
  readonly op: Operation
  readonly options: WatchOptions
  /** Retries of failed connections; restarts after every connection that got through. */
  readonly reconnect: Schedule.Schedule<unknown, KubernetesApiError>
}

/** How one connection ended without failing. */
type SessionEnd = "ended" | "gone"

/**
 * The watch Stream of one kind (see the module doc). Ends only when its consumer stops;
 * fails with a non-retryable error, or the last error when `reconnect` gives up.
 */
export const watchStream = <A>(target: WatchTarget<A>): Stream.Stream<WatchEvent<A>, KubernetesApiError> =>
  Stream.callback<WatchEvent<A>, KubernetesApiError>((queue) =>
    Effect.gen(function*() {
      const state: { resourceVersion: string | null } = { resourceVersion: null }
      const emit = (e: WatchEvent<A>) => Queue.offer(queue, e)
      while (true) {
        const end = yield* session(target, state, emit).pipe(
          Effect.scoped,
          Effect.retry({ schedule: target.reconnect, while: (e) => e.retryable })
        )
        if (end === "gone") state.resourceVersion = null
      }
    }), { bufferSize: 16 })

const session = <A>(
  target: WatchTarget<A>,
  state: { resourceVersion: string | null },
  emit: (e: WatchEvent<A>) => Effect.Effect<boolean>
) =>
  Effect.gen(function*() {
    const { server, op, options } = target
    const inactivityMs = options.inactivityTimeoutMs ?? defaultWatchInactivityMs
    if (state.resourceVersion === null) {
      const listed = yield* target.list
      state.resourceVersion = listed.resourceVersion
      yield* emit({ _tag: "Synced", items: listed.items, resourceVersion: listed.resourceVersion })
    }
    const url = urlOf(server, target.path, {
      watch: "true",
      allowWatchBookmarks: "true",
      resourceVersion: state.resourceVersion,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector
    })
    const opened = yield* openGet(target.kc, server, op, url).pipe(
      Effect.timeoutOrElse({ duration: inactivityMs, orElse: () => Effect.fail(timedOut(server, op, inactivityMs)) }),
      Effect.catchTag("FailureAnswer", (answer) => answer.status === 410 ? Effect.succeed("gone" as const) : Effect.fail(answerError(server, op, answer)))
    )
    if (opened === "gone") return "gone" as SessionEnd
    // Mutated from inside the line handler (TypeScript does not follow closures' assignments).
    const seen: { lines: number; end: SessionEnd; failure: KubernetesApiError | null } = { lines: 0, end: "ended", failure: null }
    yield* bodyLines(server, op, opened.body).pipe(
      // The inactivity timer: no line (bookmarks included) for this long ends the connection.
      Stream.timeoutOrElse({ duration: inactivityMs, orElse: () => Stream.empty }),
      Stream.runForEachWhile((text) =>
        Effect.gen(function*() {
          seen.lines++
          const line = decodeLine(text)
          // A line that is not a watch event (cut by a reset) is skipped: the resume covers it.
          if (Option.isNone(line)) return true
          const { type, object } = line.value
          if (type === "ERROR") {
            const status = decodeStatus(object)
            const code = Option.isSome(status) ? status.value.code ?? 500 : 500
            if (code === 410) {
              seen.end = "gone"
              return false
            }
            seen.failure = fromHttpStatus(server, op, code, object)
            return false
          }
          const rv = resourceVersionOf(object)
          if (rv !== null) state.resourceVersion = rv
          if (type === "BOOKMARK") return true
          // client-node's generated decoder; an object it cannot take is skipped like an undecodable line.
          const decoded = yield* Effect.try({ try: () => ObjectSerializer.deserialize(object, target.model) as A, catch: () => null }).pipe(Effect.orElseSucceed(() => null))
          if (decoded === null) return true
          yield* emit({ _tag: type === "ADDED" ? "Added" : type === "MODIFIED" ? "Modified" : "Deleted", object: decoded })
          return true
        })
      ),
      // A reset after the connection got through: reconnect at once from the resourceVersion.
      Effect.catchTag("KubernetesUnreachable", (e) => seen.lines === 0 ? Effect.fail(e) : Effect.void)
    )
    if (seen.failure !== null) return yield* Effect.fail(seen.failure)
    if (seen.lines === 0 && seen.end === "ended") {
      // A connection that ends (or stays silent) without a single event is no connection: back off.
      return yield* new KubernetesUnreachable({
        message: `Kubernetes API at ${server}: the watch (${op.resource}${op.namespace === null ? "" : ` in ${op.namespace}`}) ended without an event`,
        server,
        operation: `watch ${op.resource}`,
        status: null,
        code: null,
        retryable: true
      })
    }
    return seen.end
  })
