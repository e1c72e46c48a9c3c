/**
 * Locating a process's cgroup v2 directory and reading its OOM-kill counter.
 *
 * Sources: cgroups(7) ("/proc/[pid]/cgroup": lines `hierarchy-ID:controller-list:cgroup-path`, the
 * v2 line is `0::/path`), proc(5) ("/proc/pid/mountinfo"), and the kernel's
 * Documentation/admin-guide/cgroup-v2.rst, "memory.events": `oom_kill` is "the number of processes
 * belonging to this cgroup killed by any kind of OOM killer"; `memory.events` counts the cgroup
 * and its descendants (`memory.events.local` only the cgroup itself).
 *
 * @module
 */
import * as NodePath from "node:path"

/** The cgroup v2 path of a process from the text of `/proc/PID/cgroup` (the `0::` line), if any. */
export const cgroupV2Path = (procCgroup: string): string | undefined => {
  for (const line of procCgroup.split("\n")) {
    if (line.startsWith("0::")) return line.slice(3).trim()
  }
  return undefined
}

/**
 * The cgroup2 mounts from the text of `/proc/self/mountinfo`: field 4 is the root of the mount
 * within the hierarchy, field 5 the mount point, and after the ` - ` separator the filesystem type
 * (proc(5)). Returns `{ root, mountPoint }` for each `cgroup2` mount, in file order.
 */
export const cgroup2Mounts = (mountinfo: string): ReadonlyArray<{ readonly root: string; readonly mountPoint: string }> => {
  const mounts: Array<{ root: string; mountPoint: string }> = []
  for (const line of mountinfo.split("\n")) {
    const separator = line.indexOf(" - ")
    if (separator < 0) continue
    const before = line.slice(0, separator).split(" ")
    const fsType = line.slice(separator + 3).split(" ")[0]
    const root = before[3]
    const mountPoint = before[4]
    if (fsType === "cgroup2" && root !== undefined && mountPoint !== undefined) {
      // mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
      const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
      mounts.push({ root: unescape(root), mountPoint: unescape(mountPoint) })
    }
  }
  return mounts
}

/**
 * Candidate directories of the cgroup `cgroupPath` (from {@link cgroupV2Path}): under each cgroup2
 * mount whose root contains it (a hybrid system mounts it at `/sys/fs/cgroup/unified`), then the
 * conventional `/sys/fs/cgroup` (pure v2).
 */
export const cgroupDirCandidates = (
  cgroupPath: string,
  mounts: ReadonlyArray<{ readonly root: string; readonly mountPoint: string }>
): ReadonlyArray<string> => {
  const dirs: Array<string> = []
  for (const { root, mountPoint } of mounts) {
    if (root === "/") dirs.push(NodePath.join(mountPoint, cgroupPath))
    else if (cgroupPath === root || cgroupPath.startsWith(`${root}/`)) {
      dirs.push(NodePath.join(mountPoint, cgroupPath.slice(root.length)))
    }
  }
  dirs.push(NodePath.join("/sys/fs/cgroup", cgroupPath))
  return [...new Set(dirs)]
}

/** The `oom_kill` counter from the text of a `memory.events` file (`key value` lines). */
export const parseOomKill = (memoryEvents: string): number | undefined => {
  const match = /^oom_kill\s+(\d+)\s*$/m.exec(memoryEvents)
  return match?.[1] === undefined ? undefined : Number(match[1])
}

/**
 * The `memory.events` file of the cgroup v2 of the process whose `/proc/PID/cgroup` and
 * `/proc/PID/mountinfo` are at `procDir` (`/proc/self` for agentrun): the first candidate
 * directory ({@link cgroupDirCandidates}) whose `memory.events` has an `oom_kill` counter. `read`
 * returns a file's text, or null when it cannot be read. Null without cgroup v2, without the
 * memory controller, or when no candidate is readable.
 */
export const findMemoryEvents = (read: (path: string) => string | null, procDir = "/proc/self"): string | null => {
  const cgroups = read(`${procDir}/cgroup`)
  const path = cgroups === null ? undefined : cgroupV2Path(cgroups)
  if (path === undefined) return null
  const mounts = cgroup2Mounts(read(`${procDir}/mountinfo`) ?? "")
  for (const dir of cgroupDirCandidates(path, mounts)) {
    const file = NodePath.join(dir, "memory.events")
    const events = read(file)
    if (events !== null && parseOomKill(events) !== undefined) return file
  }
  return null
}
