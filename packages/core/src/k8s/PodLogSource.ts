/**
 * The agent container's log as the follow consumes it ({@link LogSource}): k8sapi's
 * {@link followPodLog} (each line once across dropped and ended follows, a final read after the
 * container terminated), asked about the container through the follow's own watch state (no
 * requests of its own while a run is quiet), with its cursor in the record's shape.
 *
 * @module
 */
import * as Stream from "effect/Stream"
import type { KubernetesApiShape } from "./KubernetesApi.ts"
import type { CursorLine, LogSource } from "./KubernetesFollow.ts"
import { agentContainerName } from "./JobManifest.ts"
import { emptyCursor } from "./LogCursor.ts"
import { followPodLog, type FollowPodLogOptions } from "./LogFollow.ts"

/** Timings of the follow (LogFollow's options; its defaults otherwise). */
export type PodLogSourceOptions = Pick<FollowPodLogOptions, "reconnect" | "idleResumeMs" | "terminationCheckMs" | "terminationGraceMs">

/** The {@link LogSource} over an API (see the module doc). */
export const podLogSource = (api: KubernetesApiShape, options: PodLogSourceOptions = {}): LogSource => (request) =>
  followPodLog(api, {
    ...options,
    namespace: request.namespace,
    pod: request.podName,
    container: agentContainerName,
    cursor: request.cursor ?? emptyCursor,
    containerTerminated: request.containerTerminated,
    containerId: request.containerId
  }).pipe(
    Stream.map((l): CursorLine => ({
      line: l.line,
      // After a line the cursor names its container and second (LogCursor.advance).
      cursor: { containerId: l.cursor.containerId ?? "", second: l.cursor.second ?? "", count: l.cursor.count }
    }))
  )
