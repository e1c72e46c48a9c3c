/**
 * How a process ended, decoded the POSIX way.
 *
 * A process either exits with a status (0..255) or is terminated by a signal. Shells report a
 * signal death of a child as exit status 128+n (`bash -c 'kill -SEGV $$'` exits 139), so a
 * wrapper script around the real binary turns a signal into an ordinary-looking exit code: we
 * decode that form too and keep both facts (see bash(1), "EXIT STATUS").
 *
 * @module
 */
import * as Schema from "effect/Schema"
/**
 * Linux signal numbers (x86_64 and arm64 agree on these; source: signal(7), "Standard signals").
 * Only the signals a supervisor can meet as a cause of death are listed.
 */
export const SignalNumbers = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31
} as const

/** A signal name such as `"SIGSEGV"`. */
export type SignalName = keyof typeof SignalNumbers

const namesByNumber: ReadonlyMap<number, SignalName> = new Map(
  (Object.entries(SignalNumbers) as Array<[SignalName, number]>).map(([name, n]) => [n, name])
)

/** The Linux number of a signal name; `undefined` for a name we do not know. */
export const signalNumber = (name: string): number | undefined =>
  (SignalNumbers as Record<string, number | undefined>)[name]

/** The name of a Linux signal number; `undefined` outside 1..31. */
export const signalName = (n: number): SignalName | undefined => namesByNumber.get(n)

/** A terminating signal, with its name and number and how we learnt of it. */
export const SignalDeath = Schema.Struct({
  name: Schema.String,
  number: Schema.Number,
  /**
   * `"wait"`: the kernel reported the child terminated by the signal (waitpid WIFSIGNALED).
   * `"exit-128+n"`: the child exited with status 128+n, the shell's report of a signal death
   * of its own child.
   */
  via: Schema.Literals(["wait", "exit-128+n"])
})
export type SignalDeath = typeof SignalDeath.Type

/**
 * The end of a process: `{ exitCode, signal }` where exactly one of the two says how it ended.
 * `exitCode` is null when the kernel reports a signal death; `signal` is also filled for an exit
 * status 128+n (n a known signal), with `via: "exit-128+n"`.
 */
export const ExitStatus = Schema.Struct({
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(SignalDeath)
})
export type ExitStatus = typeof ExitStatus.Type

/**
 * Decodes Node's `"exit"` event arguments (`code`, `signal`: exactly one is non-null; source:
 * Node.js child_process docs, event 'exit') into an {@link ExitStatus}.
 */
export const fromNodeExit = (code: number | null, signal: string | null): ExitStatus => {
  if (signal !== null) {
    return { exitCode: null, signal: { name: signal, number: signalNumber(signal) ?? -1, via: "wait" } }
  }
  const exitCode = code ?? -1
  if (exitCode > 128 && exitCode < 128 + 32) {
    const name = signalName(exitCode - 128)
    if (name !== undefined) {
      return { exitCode, signal: { name, number: exitCode - 128, via: "exit-128+n" } }
    }
  }
  return { exitCode, signal: null }
}

/** Human form: `"exit 0"`, `"SIGSEGV (11)"`, `"exit 139 (SIGSEGV, 128+11)"`. */
export const describe = (status: ExitStatus): string => {
  if (status.signal === null) return `exit ${status.exitCode}`
  if (status.signal.via === "wait") return `${status.signal.name} (${status.signal.number})`
  return `exit ${status.exitCode} (${status.signal.name}, 128+${status.signal.number})`
}
