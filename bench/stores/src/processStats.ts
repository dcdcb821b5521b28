/**
 * CPU time and memory of processes, read from Linux's /proc: the bench reports how the two cores
 * were shared between the load generator, the collectors and the database server.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

interface StatFields {
  ppid: number;
  /** utime + stime, and the same for waited-for children (cutime + cstime), in seconds. */
  own: number;
  children: number;
}

function readStat(pid: number): StatFields | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), starting with field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      own: (Number(fields[11]) + Number(fields[12])) / USER_HZ,
      children: (Number(fields[13]) + Number(fields[14])) / USER_HZ,
    };
  } catch {
    return undefined; // the process has exited
  }
}

/**
 * CPU seconds (user + system, all threads) of `pid` and of every live descendant, plus what its
 * exited children used: a PostgreSQL server is a postmaster with one backend per connection.
 */
export function treeCpuSeconds(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) parents.set(Number(entry), stat.ppid);
  }
  let total = 0;
  for (const candidate of parents.keys()) {
    let at: number | undefined = candidate;
    while (at !== undefined && at > 1 && at !== pid) at = parents.get(at);
    if (at !== pid) continue;
    const stat = readStat(candidate);
    if (stat) total += stat.own + (candidate === pid ? stat.children : 0);
  }
  return total;
}

/** CPU seconds of one process (all its threads). */
export function cpuSeconds(pid: number): number {
  return readStat(pid)?.own ?? 0;
}

/** `VmRSS` (current) or `VmHWM` (peak) of a process in MB, 0 once it has exited. */
export function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
