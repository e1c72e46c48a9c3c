"use strict"
/**
 * The wall-time benchmark's floor: the least any Node.js supervisor of claude can do. It starts
 * claude the way agentrun's AgentProcess does (same argv, its own session and process group,
 * the prompt on stdin, stdout and stderr piped and drained) and exits with claude's status,
 * without parsing, recording or classifying anything.
 *
 * Usage: node bare-spawner.cjs CLAUDE_PATH PROMPT
 * Exit status: claude's, or 128 + the signal number when a signal ended it.
 */
const NodeChildProcess = require("node:child_process")
const NodeOs = require("node:os")

const [claude, prompt] = process.argv.slice(2)
const child = NodeChildProcess.spawn(claude, ["-p", "--output-format", "stream-json", "--verbose"], {
  stdio: ["pipe", "pipe", "pipe"],
  detached: true
})
child.stdin.end(prompt)
child.stdout.resume()
child.stderr.resume()
child.on("error", (cause) => {
  process.stderr.write(`bare-spawner: ${cause.message}\n`)
  process.exit(127)
})
child.on("close", (code, signal) => process.exit(code ?? 128 + NodeOs.constants.signals[signal]))
