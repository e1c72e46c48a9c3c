/**
 * The one atomic file write of agentrun's stores (the run store's records, the bootstrap
 * store's sentinels and cooldowns): write a temp file in the same directory, optionally fsync
 * it, rename it over the target, and, for a durable write, fsync the directory so the rename
 * itself survives a power loss (rename(2) is atomic, but only the directory's fsync makes it
 * durable: see fsync(2), "Calling fsync() does not necessarily ensure that the entry in the
 * directory containing the file has also reached disk").
 *
 * Two forms of the same steps: `writeFileAtomic` (async, for every path a run or a long-lived
 * host touches) and `writeFileAtomicSync` (for the bootstrap lock, taken synchronously).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeFsP from "node:fs/promises"
import * as NodePath from "node:path"

/** Options of an atomic write. */
export interface AtomicWriteOptions {
  /** fsync the file before the rename and the directory after it (a final record). Default false. */
  readonly durable?: boolean
  /** File mode of a new file. Default 0o600 (records may hold redacted prompts and commands). */
  readonly mode?: number
  /** Create the parent directory first. Default true. */
  readonly mkdir?: boolean
}

const tempPathFor = (path: string) => `${path}.${process.pid}.${NodeCrypto.randomBytes(4).toString("hex")}.tmp`

/**
 * Writes `data` to `path` atomically: readers see the old content or the new, never a part.
 * Rejects with the Node.js error (errno `code`) of the step that failed; the temp file is
 * removed then.
 */
export const writeFileAtomic = async (path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> => {
  const dir = NodePath.dirname(path)
  if (options.mkdir !== false) await NodeFsP.mkdir(dir, { recursive: true })
  const tmp = tempPathFor(path)
  try {
    const file = await NodeFsP.open(tmp, "w", options.mode ?? 0o600)
    try {
      await file.writeFile(data)
      if (options.durable === true) await file.sync()
    } finally {
      await file.close()
    }
    await NodeFsP.rename(tmp, path)
  } catch (cause) {
    await NodeFsP.rm(tmp, { force: true }).catch(() => {})
    throw cause
  }
  if (options.durable === true) {
    const handle = await NodeFsP.open(dir, "r")
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}

/** {@link writeFileAtomic}, synchronously (throws the Node.js error). */
export const writeFileAtomicSync = (path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void => {
  const dir = NodePath.dirname(path)
  if (options.mkdir !== false) NodeFs.mkdirSync(dir, { recursive: true })
  const tmp = tempPathFor(path)
  try {
    const fd = NodeFs.openSync(tmp, "w", options.mode ?? 0o600)
    try {
      NodeFs.writeFileSync(fd, data)
      if (options.durable === true) NodeFs.fsyncSync(fd)
    } finally {
      NodeFs.closeSync(fd)
    }
    NodeFs.renameSync(tmp, path)
  } catch (cause) {
    NodeFs.rmSync(tmp, { force: true })
    throw cause
  }
  if (options.durable === true) {
    const fd = NodeFs.openSync(dir, "r")
    try {
      NodeFs.fsyncSync(fd)
    } finally {
      NodeFs.closeSync(fd)
    }
  }
}

/**
 * Artifact files written atomically into `dir` (created if missing), outside any run store: the
 * shape of {@link ArtifactSink} for a folder of one's own (the watchdog's own tests, tools).
 */
export const artifactsIn = (dir: string): { readonly where: string; readonly write: (name: string, content: string) => Effect.Effect<string, { readonly message: string }> } => ({
  where: dir,
  write: (name, content) =>
    Effect.tryPromise({
      try: async () => {
        const file = NodePath.join(dir, name)
        await writeFileAtomic(file, content)
        return file
      },
      catch: (cause) => ({ message: String((cause as { code?: unknown })?.code ?? cause) })
    })
})
