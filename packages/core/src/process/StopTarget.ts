/**
 * What the stop sequence escalates over: a running agent, wherever it runs. A local process (the
 * {@link AgentHandle} of one agentrun started, or a foreign one it found by pid) and, later, a
 * Kubernetes Pod are each a {@link StopTarget}, so they share one sequence (StopSequence.ts) and
 * one shape of evidence ({@link StopReport}).
 *
 * A Pod as a StopTarget (for the Kubernetes backend to build; the names are Kubernetes'):
 * - `interrupt`: delete the Pod with its grace period (`DeleteOptions.gracePeriodSeconds`, at least
 *   the interrupt plus terminate grace): the kubelet sends SIGTERM to the container's PID 1, the
 *   entry script (k8s/EntryScript.ts), which forwards it to claude as SIGINT, so claude aborts the
 *   turn and writes its `result` as it does locally. Delivery: `{ signal: "SIGTERM", target: "pod",
 *   pids: [], object: "<namespace>/<pod>" }`.
 * - `terminate`: the graceful delete again (idempotent while the Pod terminates: the kubelet sends
 *   its SIGTERM once, and the entry script has already passed it on), reported as the same SIGTERM
 *   to the pod; its grace is the rest of the Pod's termination grace.
 * - `kill`: delete with `gracePeriodSeconds: 0`: the kubelet SIGKILLs the containers at once.
 *   Delivery `{ signal: "SIGKILL", target: "pod", ... }`.
 * - `exit` / `exited`: the container's `state.terminated` (exit code, signal, reason such as
 *   OOMKilled) from the Pod's status, or the Pod's disappearance (then an unknown exit).
 *
 * @module
 */
import type * as Effect from "effect/Effect"
import type { StopStep } from "../domain/Evidence.ts"

/**
 * What one step of the stop sequence sent, for its {@link StopStep}: the signal (for a Pod, the one
 * the kubelet sends), what it was sent to, the pids signalled (empty for a Pod), and for a
 * Kubernetes object its `namespace/name`.
 */
export interface StopDelivery {
  readonly signal: string
  readonly target: StopStep["target"]
  readonly pids: ReadonlyArray<number>
  readonly object?: string
}

/**
 * Something the stop sequence can stop. `Exit` is how it ended (a local process's
 * {@link ExitStatus}). Each step never fails: a target that is already gone answers with what it
 * tried (a signal to a gone pid is simply not delivered).
 */
export interface StopTarget<Exit = unknown> {
  /** Step 1, the polite one: the agent alone is asked to wind up (SIGINT to its pid: claude writes its `result`). */
  readonly interrupt: Effect.Effect<StopDelivery>
  /** Step 2: everything the agent started is asked to end (SIGTERM to its process group). */
  readonly terminate: Effect.Effect<StopDelivery>
  /** Step 3: whatever is left is killed (SIGKILL to each process of the run's tree). */
  readonly kill: Effect.Effect<StopDelivery>
  /** Waits for the end. The sequence bounds every wait with a grace period: this may never complete (a `D`-state process). */
  readonly exit: Effect.Effect<Exit>
  /** Non-blocking: how it ended if it has, null while it runs. */
  readonly exited: Effect.Effect<Exit | null>
}
