/**
 * Standalone fake Messages API.
 *
 *   node --disable-warning=ExperimentalWarning test/support/fake-anthropic/main.ts --scenario success [--port 0] [--log]
 *
 * Prints `{"url":"http://127.0.0.1:PORT","scenario":"success"}` as one JSON line on
 * stdout once listening. With --log, each recorded request is printed as a JSON
 * line on stderr. Stops on SIGINT / SIGTERM.
 */
import { start } from "./FakeMessagesApi.ts"
import { isScenarioName, scenarios } from "./scenarios.ts"

const args = process.argv.slice(2)
const valueOf = (flag: string): string | undefined => {
  const i = args.indexOf(flag)
  return i >= 0 ? args[i + 1] : undefined
}

const name = valueOf("--scenario") ?? "success"
if (!isScenarioName(name)) {
  process.stderr.write(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}\n`)
  process.exit(2)
}
const portArg = valueOf("--port")
const log = args.includes("--log")

const api = await start({ scenario: scenarios[name], port: portArg === undefined ? 0 : Number(portArg) })
process.stdout.write(JSON.stringify({ url: api.url, scenario: name }) + "\n")

if (log) {
  let seen = 0
  setInterval(() => {
    while (seen < api.requests.length) {
      const r = api.requests[seen++]!
      const body = r.body as { model?: unknown; stream?: unknown; messages?: ReadonlyArray<unknown> } | undefined
      process.stderr.write(JSON.stringify({
        method: r.method,
        path: r.path,
        replyIndex: r.replyIndex,
        replyKind: r.replyKind,
        model: body?.model,
        stream: body?.stream,
        messages: body?.messages?.length
      }) + "\n")
    }
  }, 100).unref()
}

const shutdown = () => {
  void api.close().then(() => process.exit(0))
}
process.on("SIGINT", shutdown)
process.on("SIGTERM", shutdown)
