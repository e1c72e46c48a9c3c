import { hello } from "@agentrun/core"
import { Effect } from "effect"
Effect.runSync(Effect.sync(() => console.log(hello, process.version)))
