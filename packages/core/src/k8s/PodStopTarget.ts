/**
 * A Kubernetes Pod as a {@link StopTarget}, so the stall watchdog stops a Pod with the same stop
 * sequence (process/StopSequence.ts `runStopSequence`) and the same evidence ({@link StopReport}
 * steps) as a local process. The steps, in Kubernetes' terms (Pod Lifecycle, "Termination of
 * Pods"; see StopTarget.ts):
 *
 * - `interrupt`: DELETE the Pod with `gracePeriodSeconds` = the Pod's termination grace: the
 *   kubelet sends SIGTERM to the container's PID 1, the entry script (EntryScript.ts), which passes
 *   it to claude as SIGINT, so claude aborts the turn and writes its `result`.
 * - `terminate`: the same graceful DELETE again: idempotent while the Pod terminates (the kubelet
 *   signals once), reported as the SIGTERM the Pod got.
 * - `kill`: DELETE with `gracePeriodSeconds: 0`: the Pod object goes at once and the kubelet
 *   SIGKILLs its containers.
 * - `exit`/`exited`: the follow loop's view of the Pod: its agent container terminated, or the Pod
 *   gone (`ended`, completed by KubernetesFollow.ts).
 *
 * A DELETE that fails (the API out of reach, the Pod already gone) is logged and still reported as
 * sent: the sequence's waits decide, and its report says whether the Pod ended.
 *
 * @module
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { StopTarget } from "../process/StopTarget.ts"
import type { KubernetesApiShape } from "./KubernetesApi.ts"

/** What {@link podStopTarget} needs. */
export interface PodStopTargetOptions {
  readonly api: KubernetesApiShape
  readonly namespace: string
  readonly podName: string
  /** The graceful DELETE's `gracePeriodSeconds` (seconds): the Pod's `terminationGracePeriodSeconds`. */
  readonly graceSeconds: number
  /** Completed by the follow loop when the agent container has terminated or the Pod is gone. */
  readonly ended: Deferred.Deferred<void>
  /** The run, for the log line of a DELETE that failed. */
  readonly runId: string
}

/** The Pod `options.podName` as a stop target; see the module documentation. Its `Exit` is void: the follow loop reads the container's terminated state itself. */
export const podStopTarget = (options: PodStopTargetOptions): StopTarget<void> => {
  const { api, namespace, podName } = options
  const object = `${namespace}/${podName}`
  const remove = (gracePeriodSeconds: number, signal: "SIGTERM" | "SIGKILL") =>
    api.deletePod(namespace, podName, gracePeriodSeconds).pipe(
      Effect.catchTag("KubernetesNotFound", () => Effect.void),
      Effect.catch((e) => Effect.logWarning(`run ${options.runId}: Pod ${object} could not be deleted (${signal}): ${e.message}`)),
      Effect.as({ signal, target: "pod" as const, pids: [], object })
    )
  return {
    interrupt: remove(options.graceSeconds, "SIGTERM"),
    terminate: remove(options.graceSeconds, "SIGTERM"),
    kill: remove(0, "SIGKILL"),
    exit: Deferred.await(options.ended),
    exited: Effect.map(Deferred.isDone(options.ended), (done) => (done ? undefined : null))
  }
}
