/**
 * Streaming GETs against the API server over node:http(s), for what client-node does not do
 * safely (watches and `pods/log` follows): the TLS and auth options come from the KubeConfig
 * itself (`applyToHTTPSOptions`: CA, client certificate, bearer token, exec/OIDC providers), read
 * anew for each request so rotating tokens are honoured.
 *
 * The request lives in the caller's Scope: closing it (end, failure or interruption) destroys
 * the request and its socket, so no connection outlives its stream and no socket error escapes
 * as an uncaught exception.
 *
 * @module
 */
import type { KubeConfig } from "@kubernetes/client-node"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as http from "node:http"
import * as https from "node:https"
import { LineSplitter } from "../process/LineSplitter.ts"
import type { KubernetesApiError, KubernetesUnreachable } from "./KubernetesApi.ts"
import { fromHttpStatus, fromTransport, type Operation } from "./KubernetesStatus.ts"

/** Longest line kept from a watch or log stream (bytes); longer lines are cut (LineSplitter). */
export const maxStreamLineBytes = 16 * 1024 * 1024

/** At most this much of a failure answer's body is read (bytes): a Status is small. */
const maxErrorBodyBytes = 64 * 1024

/** A response whose status is 2xx, its body not yet read. */
export interface OpenResponse {
  readonly status: number
  readonly body: http.IncomingMessage
}

/** A non-2xx answer, its (bounded) body read. */
export interface FailureAnswer {
  readonly _tag: "FailureAnswer"
  readonly status: number
  readonly body: string
}

/** The URL of `path` (with its query) on the cluster's server. */
export const urlOf = (server: string, path: string, query: Readonly<Record<string, string | undefined>>): URL => {
  const url = new URL(server.replace(/\/+$/, "") + path)
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v)
  return url
}

const readBounded = (res: http.IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    res.on("data", (c: Buffer) => {
      if (size < maxErrorBodyBytes) chunks.push(c)
      size += c.length
    })
    const done = () => resolve(Buffer.concat(chunks).toString("utf8").slice(0, maxErrorBodyBytes))
    res.on("end", done)
    // A failure answer cut short still says what it said so far.
    res.on("error", done)
    res.on("aborted", done)
  })

/**
 * Sends one GET and waits for the response head. A 2xx gives the open body; any other status
 * fails with the answer (`FailureAnswer`, body read) so the caller can tell a 410 from a 403; a
 * socket failure fails with KubernetesUnreachable. The request is destroyed when `scope` closes.
 */
export const openGet = (
  kc: KubeConfig,
  server: string,
  op: Operation,
  url: URL
): Effect.Effect<OpenResponse, FailureAnswer | KubernetesUnreachable, Scope.Scope> =>
  Effect.gen(function*() {
    const options: https.RequestOptions = { method: "GET", headers: { Accept: "application/json, */*" } }
    yield* Effect.tryPromise({ try: () => kc.applyToHTTPSOptions(options), catch: (e) => fromTransport(server, op, e) })
    const send = url.protocol === "http:" ? http.request : https.request
    const req = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const r = send(url, options)
        // Errors after the stream took over are reported through the body; this keeps them from
        // being thrown as unhandled 'error' events.
        r.on("error", () => {})
        return r
      }),
      (r) => Effect.sync(() => r.destroy())
    )
    const res = yield* Effect.callback<http.IncomingMessage, KubernetesUnreachable>((resume) => {
      const onError = (e: Error) => resume(Effect.fail(fromTransport(server, op, e)))
      req.once("error", onError)
      req.once("response", (r) => {
        req.off("error", onError)
        r.on("error", () => {})
        resume(Effect.succeed(r))
      })
      req.end()
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => res.destroy()))
    const status = res.statusCode ?? 0
    if (status >= 200 && status < 300) return { status, body: res }
    const body = yield* Effect.promise(() => readBounded(res))
    return yield* Effect.fail<FailureAnswer>({ _tag: "FailureAnswer", status, body })
  })

/** A FailureAnswer as the typed API error of its status. */
export const answerError = (server: string, op: Operation, answer: FailureAnswer): KubernetesApiError =>
  fromHttpStatus(server, op, answer.status, answer.body)

async function* splitLines(body: http.IncomingMessage): AsyncGenerator<ReadonlyArray<string>> {
  const splitter = new LineSplitter(maxStreamLineBytes)
  for await (const chunk of body) {
    const lines = splitter.push(chunk as Buffer)
    if (lines.length > 0) yield lines
  }
  const rest = splitter.end()
  if (rest.length > 0) yield rest
}

/**
 * The body's lines (without newline), pulled with backpressure: the socket is read only as fast
 * as the consumer takes lines. Ends at the server's clean EOF; a reset or abort fails with
 * KubernetesUnreachable (code `ECONNRESET` when the socket gave none).
 */
export const bodyLines = (server: string, op: Operation, body: http.IncomingMessage): Stream.Stream<string, KubernetesUnreachable> =>
  Stream.fromAsyncIterable(splitLines(body), (e) => {
    const withCode = typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" ? e : Object.assign(new Error(e instanceof Error ? e.message : String(e)), { code: "ECONNRESET" })
    return fromTransport(server, op, withCode)
  }).pipe(Stream.flattenIterable)
