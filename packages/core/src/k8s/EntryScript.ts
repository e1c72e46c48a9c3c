/**
 * The container's entry: a POSIX sh script carried in the Job spec (`command: [/bin/sh, -c,
 * SCRIPT, agentrun-entry]`, claude's arguments as `args`), so any image with `sh` and `claude` on
 * PATH works and nothing is baked into an image.
 *
 * What it does, and why:
 * - feeds the prompt file (the run's Secret, mounted) to claude on stdin: the prompt is never in
 *   the pod spec, argv or environment;
 * - starts claude as an asynchronous list and waits for it, so the shell (PID 1 of the container)
 *   stays able to run a trap; on SIGTERM (the kubelet's stop: a delete, an eviction, the Job's
 *   deadline) and SIGINT it sends SIGINT to claude, which then aborts the turn and still writes
 *   its `result` with cost and session (the local stop sequence's first step). The kubelet's
 *   SIGKILL after `terminationGracePeriodSeconds` is the rest of the sequence;
 * - exits with claude's own status (the shell reports a signal death as 128+n, POSIX `wait`).
 *
 * A POSIX shell gives an asynchronous list SIGINT ignored when job control is off (XCU 2.11);
 * claude installs its own SIGINT handler (sigaction replaces an inherited SIG_IGN), which is what
 * the tests check against the real binary. A SIGINT that arrives before claude installed it is
 * lost, and the kubelet's SIGKILL ends the Pod.
 *
 * Environment it reads: `AGENTRUN_PROMPT_FILE` (default {@link defaultPromptFile}) and
 * `AGENTRUN_CLAUDE` (default `claude`, looked up on PATH).
 *
 * @module
 */

/** Where the run's Secret is mounted and the prompt file inside it. */
export const promptMountPath = "/agentrun/prompt"
/** The key of the prompt in the run's Secret (also the file name under {@link promptMountPath}). */
export const promptSecretKey = "prompt"
/** The prompt file the script reads by default. */
export const defaultPromptFile = `${promptMountPath}/${promptSecretKey}`

/** The status the script exits with when the prompt file cannot be read (sysexits(3) EX_NOINPUT). */
export const promptUnreadableExitCode = 66

/** `$0` of the script, as `ps` and the shell's own messages show it. */
export const entryScriptName = "agentrun-entry"

/**
 * The script. A stop asked before claude started ends it without starting claude (128+n for
 * the signal, as if claude had died of it); one that came while claude was being started is sent on at once.
 * Its `wait` loop: a trap cuts `wait` short (status > 128) while claude lives on, so
 * it waits again; if the trap ran just after `wait` had returned, the next `wait` finds the pid
 * already reported (dash: 127) and the status first returned stands.
 */
export const entryScript = `set -u
prompt="\${AGENTRUN_PROMPT_FILE:-${defaultPromptFile}}"
claude="\${AGENTRUN_CLAUDE:-claude}"
if [ ! -r "$prompt" ]; then
  echo "${entryScriptName}: cannot read the prompt file $prompt" >&2
  exit ${promptUnreadableExitCode}
fi
pid=
trapped=
forward() {
  trapped=$1
  if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null; fi
}
trap 'forward 143' TERM
trap 'forward 130' INT
if [ -n "$trapped" ]; then exit "$trapped"; fi
"$claude" "$@" <"$prompt" &
pid=$!
if [ -n "$trapped" ]; then kill -INT "$pid" 2>/dev/null; fi
status=
while :; do
  trapped=
  wait "$pid"
  s=$?
  if [ -n "$status" ] && [ "$s" -eq 127 ]; then break; fi
  status=$s
  if [ -z "$trapped" ]; then break; fi
done
exit "$status"
`

/** The container `command` that runs the script; claude's arguments go in `args` and reach it as `"$@"`. */
export const entryCommand: ReadonlyArray<string> = ["/bin/sh", "-c", entryScript, entryScriptName]
