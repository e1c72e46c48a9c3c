/**
 * Following one container's log to its end, exactly once per line, across everything that ends a
 * `pods/log` follow early: a clean EOF (kubelet idle timeouts, log rotation, runtime stream caps,
 * proxies) is resumed at once; a reset or 5xx is resumed on the reconnect Schedule. Each resume
 * asks for `sinceTime` = the cursor's whole second and skips the lines of it already taken
 * (LogCursor.ts). Once the container has terminated, one final non-follow read takes the tail and
 * the stream ends.
 *
 * A follow can also hang on a connection that died without a FIN (no keepalive reaches us), so
 * while following, `containerTerminated` is checked every `terminationCheckMs`; once it holds and
 * the follow has not ended within `terminationGraceMs`, the follow is dropped and the final read
 * done.
 *
 * @module
 */
import type { V1Pod } from "@kubernetes/client-node"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { KubernetesApiError, KubernetesApiShape } from "./KubernetesApi.ts"
import { acceptLine, beginRead, type LogCursor, type LogRead } from "./LogCursor.ts"

/** One line taken from the container's log. */
export interface FollowedLine {
  /** The text, without the timestamp and newline (stdout and stderr merged, as the kubelet keeps them). */
  readonly line: string
  /** The kubelet's RFC 3339 timestamp of the line. */
  readonly timestamp: string
  /** The cursor after this line: store it, and a follow started from it goes on with the next line. */
  readonly cursor: LogCursor
}

/** What to follow, from where. */
export interface FollowPodLogOptions {
  readonly namespace: string | null
  readonly pod: string
  readonly container: string
  /** Where an earlier follow stopped (`emptyCursor` for the whole log). */
  readonly cursor: LogCursor
  /**
   * Whether the container has terminated. Checked before every read and every
   * `terminationCheckMs` while following: keep it cheap (the caller's watch state, not a request).
   */
  readonly containerTerminated: Effect.Effect<boolean, KubernetesApiError>
  /**
   * The container instance now (`containerStatuses[].containerID`, null while it has not started).
   * Default: read from the Pod (one `get pods` per read). Until there is one, it is asked again
   * every `idleResumeMs`: start the follow once the caller's watch saw the container start.
   */
  readonly containerId?: Effect.Effect<string | null, KubernetesApiError>
  /** Retries of failed reads (reset, 5xx, refused); restarts once a read took a new line. Default: exponential from 500 ms, each wait at most 30 s, for 5 minutes. */
  readonly reconnect?: Schedule.Schedule<unknown, KubernetesApiError>
  /** Wait before reading again after a read that took no new line (cut short, checking `containerTerminated` every 50 ms, once the container has terminated), or while the container has not started (ms; default 1000). */
  readonly idleResumeMs?: number
  /** How often a follow checks `containerTerminated` (ms; default 5000). */
  readonly terminationCheckMs?: number
  /** How long a follow may go on after the container terminated before it is dropped for the final read (ms; default 10 000). */
  readonly terminationGraceMs?: number
}

/**
 * Lines taken from the log ahead of the consumer. Few: a stream-json line can be megabytes (a
 * long tool output), and every line held here is live memory of the following process (64 held
 * about 45 MB of large strings at the peak of `pnpm bench --only k8s-rss`).
 */
const followBufferLines = 4

/** How often an idle pause (a follow ended with no new line) checks `containerTerminated` (ms). */
const terminatedPollMs = 50

/** Default of {@link FollowPodLogOptions.reconnect}. */
export const defaultLogReconnect: Schedule.Schedule<unknown, KubernetesApiError> = Schedule.exponential("500 millis").pipe(
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.seconds(30)))),
  Schedule.upTo({ duration: "5 minutes" })
)

/** The containerID of `container` in the Pod's status; null while it is waiting (no instance yet). */
export const containerIdIn = (pod: V1Pod, container: string): string | null => {
  const status = (pod.status?.containerStatuses ?? []).find((c) => c.name === container)
  if (status === undefined || status.state?.waiting !== undefined) return null
  const id = status.containerID ?? status.state?.terminated?.containerID
  return id === undefined || id === "" ? null : id
}

/**
 * The container's log lines, each once, from `options.cursor` to the container's end; see the
 * module doc. Fails with a non-retryable error (Forbidden, the Pod NotFound) or with the last
 * error once `reconnect` gives up.
 */
export const followPodLog = (api: KubernetesApiShape, options: FollowPodLogOptions): Stream.Stream<FollowedLine, KubernetesApiError> =>
  Stream.callback<FollowedLine, KubernetesApiError>((queue) =>
    Effect.gen(function*() {
      const reconnect = options.reconnect ?? defaultLogReconnect
      const idleResumeMs = options.idleResumeMs ?? 1_000
      const checkMs = options.terminationCheckMs ?? 5_000
      const graceMs = options.terminationGraceMs ?? 10_000
      const containerId = options.containerId ?? api.getPod(options.namespace, options.pod).pipe(Effect.map((p) => containerIdIn(p, options.container)))
      const state: { cursor: LogCursor; progressed: boolean } = { cursor: options.cursor, progressed: false }

      // Ends once the container has terminated and the grace period passed: the follow is dropped then.
      const terminatedAndGraceOver = Effect.gen(function*() {
        while (!(yield* options.containerTerminated.pipe(Effect.orElseSucceed(() => false)))) yield* Effect.sleep(checkMs)
        yield* Effect.sleep(graceMs)
      })

      // A follow that ended with nothing new: usually the container exited and the Pod's status has
      // not caught up yet. The pause ends as soon as it has, so the tail (and the verdict waiting on
      // it) is read then, not a whole idleResumeMs later (`pnpm bench --only k8s-verdict-latency`).
      const idlePause = Effect.gen(function*() {
        let waited = 0
        while (waited < idleResumeMs) {
          if (yield* options.containerTerminated.pipe(Effect.orElseSucceed(() => false))) return
          const slice = Math.min(terminatedPollMs, idleResumeMs - waited)
          yield* Effect.sleep(slice)
          waited += slice
        }
      })

      /** One read; "final" when it was the non-follow read after termination. */
      const oneRead = Effect.gen(function*() {
        const id = yield* containerId
        if (id === null) return "not-started" as const
        const terminatedBefore = yield* options.containerTerminated
        const begun = beginRead(state.cursor, id)
        state.cursor = begun.cursor
        let read: LogRead = begun
        const lines = api.podLog(options.namespace, options.pod, { container: options.container, follow: !terminatedBefore, sinceTime: begun.sinceTime })
        yield* (terminatedBefore ? lines : lines.pipe(Stream.interruptWhen(terminatedAndGraceOver))).pipe(
          Stream.runForEach((l) => {
            const taken = acceptLine(read, l.timestamp)
            read = taken.read
            state.cursor = read.cursor
            if (!taken.emit) return Effect.void
            state.progressed = true
            return Queue.offer(queue, { line: l.line, timestamp: l.timestamp, cursor: read.cursor })
          })
        )
        return terminatedBefore ? "final" as const : "ended" as const
      })

      const makeStep = Schedule.toStepWithSleep(reconnect)
      let step = yield* makeStep
      while (true) {
        state.progressed = false
        const outcome = yield* Effect.result(oneRead)
        if (state.progressed) step = yield* makeStep
        if (Result.isSuccess(outcome)) {
          if (outcome.success === "final") return yield* Queue.end(queue)
          if (outcome.success === "not-started") yield* Effect.sleep(idleResumeMs)
          else if (!state.progressed) yield* idlePause
          continue
        }
        const error = outcome.failure
        if (!error.retryable) return yield* Effect.fail(error)
        // The Schedule giving up ends the follow with this error.
        yield* step(error).pipe(Pull.catchDone(() => Effect.fail(error)))
      }
    }), { bufferSize: followBufferLines })
