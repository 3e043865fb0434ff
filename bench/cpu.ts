// Where the CPU went during a measured window, from /proc (Linux): CPU seconds of each component's process
// tree (the load generator, NGINX, the replicas, a baseline) and of the whole machine. What the machine spent
// outside the components ("other") shows a noisy machine: a benchmark is only meaningful when it is ~0.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI Node runs on

function readStat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces and parentheses): state is field 3.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** The pid and every descendant of each root. */
function descendants(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat === undefined) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function machineBusyTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export interface CpuSnapshot {
  at: number;
  machine: { busy: number; total: number };
  /** Ticks per component, with the pids they were read from. */
  components: Map<string, Map<number, number>>;
}

/** A component: its root pids, with their descendants (read at snapshot time) unless `tree` is false. */
export interface Component {
  pids: readonly number[];
  tree?: boolean;
}

export function cpuSnapshot(components: Record<string, Component>): CpuSnapshot {
  const out = new Map<string, Map<number, number>>();
  for (const [name, { pids, tree = true }] of Object.entries(components)) {
    const perPid = new Map<number, number>();
    for (const pid of tree ? descendants(pids) : pids) {
      const stat = readStat(pid);
      if (stat !== undefined) perPid.set(pid, stat.ticks);
    }
    out.set(name, perPid);
  }
  return { at: performance.now(), machine: machineBusyTicks(), components: out };
}

export interface CpuUsage {
  /** Wall-clock seconds of the window. */
  seconds: number;
  /** Cores in use on average over the window, per component ("other": the rest of the machine). */
  cores: Record<string, number>;
  /** The machine's busy share, 0..1. */
  machineBusy: number;
}

/** CPU used between two snapshots; a process that started in between counts from zero. */
export function cpuUsage(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const seconds = (after.at - before.at) / 1000;
  const cores: Record<string, number> = {};
  let known = 0;
  for (const [name, perPid] of after.components) {
    let ticks = 0;
    for (const [pid, value] of perPid) ticks += value - (before.components.get(name)?.get(pid) ?? 0);
    known += ticks;
    cores[name] = round(ticks / TICKS_PER_SECOND / seconds);
  }
  const busy = after.machine.busy - before.machine.busy;
  const total = after.machine.total - before.machine.total;
  cores.other = round(Math.max(0, busy - known) / TICKS_PER_SECOND / seconds);
  return { seconds: round(seconds), cores, machineBusy: total > 0 ? round(busy / total) : 0 };
}

const round = (x: number) => Math.round(x * 100) / 100;
