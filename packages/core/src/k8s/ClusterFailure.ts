/**
 * A Kubernetes API failure as a run's outcome: the cluster family's classes, named from the
 * typed API errors (KubernetesApi.ts), never collapsed into one string.
 *
 * @module
 */
import { ClusterForbidden, ClusterUnreachable, ContainerConfigError } from "../domain/Failures.ts"
import type { RunOutcome } from "../domain/RunOutcome.ts"
import type { KubernetesApiError } from "./KubernetesApi.ts"

/** Where the failure happened, for the evidence. */
export interface ClusterFailureContext {
  readonly server: string
  readonly context: string | null
  readonly namespace: string
  readonly jobName: string
}

/**
 * The outcome of a run that could not be started (or guarded) because an API request failed:
 * unreachable → `ClusterUnreachable` (retryable); 403 → `ClusterForbidden` naming verb, resource
 * and namespace; 404 (no such namespace), 409 or 422 (the API refused the objects) →
 * `ContainerConfigError` with the API's words.
 */
export const clusterFailure = (error: KubernetesApiError, where: ClusterFailureContext, doing: string): RunOutcome => {
  switch (error._tag) {
    case "KubernetesUnreachable":
      return new ClusterUnreachable({
        message: `The Kubernetes API at ${error.server} could not be reached while agentrun was to ${doing}: ${error.message}`,
        retryable: true,
        evidence: {
          server: error.server,
          context: where.context,
          operation: error.operation,
          code: error.code ?? (error.status === null ? null : String(error.status)),
          detail: error.message
        }
      })
    case "KubernetesForbidden":
      return new ClusterForbidden({
        message: `The Kubernetes API refused to let agentrun ${error.verb} ${error.resource}${
          error.namespace === null ? "" : ` in namespace ${error.namespace}`
        } (RBAC: see deploy/rbac.yaml): ${error.serverMessage}`,
        retryable: false,
        evidence: {
          verb: error.verb,
          resource: error.group === "" ? error.resource : `${error.resource}.${error.group}`,
          namespace: error.namespace,
          detail: error.serverMessage
        }
      })
    case "KubernetesNotFound":
    case "KubernetesConflict":
    case "KubernetesInvalid":
      return new ContainerConfigError({
        message: `The Kubernetes API refused the run's objects while agentrun was to ${doing}: ${error.message}`,
        retryable: false,
        evidence: {
          ref: { namespace: where.namespace, jobName: where.jobName, podName: null, podUid: null, nodeName: null },
          reason: error._tag.replace(/^Kubernetes/, ""),
          message: error.message
        }
      })
  }
}
