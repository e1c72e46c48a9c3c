/**
 * Which processes belong to a run, computed from a snapshot of the process table. Shared by the
 * real and the in-memory process tables, so both answer `family` the same way.
 *
 * @module
 */

/** The identity fields the family computation needs (a subset of {@link ProcessInfo}). */
export interface FamilyMember {
  readonly pid: number
  readonly ppid: number
  readonly pgid: number
  readonly sid: number
  readonly startTimeTicks: number
}

/**
 * The processes of the run rooted at `rootPid`, parents first.
 *
 * Membership: a process is in the family when its session id or process group id equals
 * `rootPid` (a session/group the root leads; this holds even after the root exits, and catches a
 * grandchild that double-forked and was reparented to init or a subreaper), or when its parent is
 * in the family (descendants by ppid, transitively, including ones that moved to another session
 * with setsid). Only the numbers are compared, so a root that is not a session or group leader
 * contributes its descendants only.
 *
 * `rootPid` itself is excluded unless `includeRoot` is true. Order: a process comes after its
 * parent when the parent is in the result; otherwise by depth below the nearest member ancestor,
 * then by start time, then pid.
 */
export const familyOf = <A extends FamilyMember>(
  table: ReadonlyArray<A>,
  rootPid: number,
  includeRoot: boolean
): ReadonlyArray<A> => {
  const byPid = new Map<number, A>()
  const children = new Map<number, Array<A>>()
  for (const p of table) {
    byPid.set(p.pid, p)
    const siblings = children.get(p.ppid)
    if (siblings === undefined) children.set(p.ppid, [p])
    else siblings.push(p)
  }
  const members = new Set<number>()
  const queue: Array<number> = []
  const add = (pid: number) => {
    if (!members.has(pid)) {
      members.add(pid)
      queue.push(pid)
    }
  }
  if (byPid.has(rootPid)) add(rootPid)
  for (const p of table) if (p.sid === rootPid || p.pgid === rootPid) add(p.pid)
  // Descendants by ppid of every member. Also walk children of rootPid even if it is gone.
  for (const child of children.get(rootPid) ?? []) add(child.pid)
  while (queue.length > 0) {
    const pid = queue.shift() as number
    // pid 0 is the parent of init and kthreadd only; never expand it.
    if (pid === 0) continue
    for (const child of children.get(pid) ?? []) add(child.pid)
  }
  const depth = (p: A): number => {
    let d = 0
    let current: A | undefined = p
    const seen = new Set<number>()
    while (current !== undefined && !seen.has(current.pid)) {
      seen.add(current.pid)
      const parent: A | undefined = byPid.get(current.ppid)
      if (parent === undefined || !members.has(parent.pid)) break
      d++
      current = parent
    }
    return d
  }
  const result = [...members]
    .filter((pid) => includeRoot || pid !== rootPid)
    .map((pid) => byPid.get(pid))
    .filter((p): p is A => p !== undefined)
  const depths = new Map(result.map((p) => [p.pid, depth(p)]))
  return result.sort((a, b) =>
    (depths.get(a.pid) ?? 0) - (depths.get(b.pid) ?? 0) || a.startTimeTicks - b.startTimeTicks || a.pid - b.pid
  )
}
