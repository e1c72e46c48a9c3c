/**
 * Who the extension is, in cancel requests and the `Cancelled` verdicts they lead to (the
 * request's `by`), so a run cancelled from VS Code says so, as one cancelled by the CLI names
 * `agentrun cancel (pid N on HOST)`.
 *
 * @module
 */
import * as NodeOs from "node:os"

/** `agentrun VS Code extension (pid N on HOST)`: this extension host's process on this machine. */
export const cancelRequester = (): string => `agentrun VS Code extension (pid ${process.pid} on ${NodeOs.hostname()})`
