// Where the CPU went during a measured window, from /proc (Linux): CPU seconds of each component's process
// tree (the load generator, NGINX, the replicas, a baseline) and of the whole machine. What the machine spent
// outside the components ("other") shows a noisy machine: a benchmark is only meaningful when it is ~0.
// A component may also be split by thread role (`threads: true`): each process's main thread, the service's
// worker threads (named by inference/worker.ts; the threads they start, such as ONNX Runtime's, inherit the
// name) and every other thread (V8's garbage-collection and compiler helpers, libuv's pool).
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

/** The role of a thread of a service replica, by its OS name. */
export type ThreadRole = 'main' | 'workers' | 'tokenizer workers' | 'other threads';

const ROLE_BY_NAME: Record<string, ThreadRole> = {
  'sentiment-work': 'workers',
  // The design before workers tokenized their own batches had tokenizer threads of their own.
  'sentiment-tok': 'tokenizer workers',
};

/** A replica's thread's role: the main thread has the process's id, workers are named by inference/worker.ts. */
export function threadRole(pid: number, tid: number, name: string): ThreadRole {
  return tid === pid ? 'main' : ROLE_BY_NAME[name] ?? 'other threads';
}

/** Ticks of every thread of `pid`, by role; `${pid}/${tid}` keys. */
function threadTicks(pid: number, into: Map<string, { role: ThreadRole; ticks: number }>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const role = threadRole(pid, Number(tid), name);
      into.set(`${pid}/${tid}`, { role, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
}

export interface CpuSnapshot {
  at: number;
  machine: { busy: number; total: number };
  /** Ticks per component, with the pids they were read from. */
  components: Map<string, Map<number, number>>;
  /** Ticks per thread of the components split by thread role. */
  threads: Map<string, Map<string, { role: ThreadRole; ticks: number }>>;
}

/**
 * A component: its root pids, with their descendants (read at snapshot time) unless `tree` is false; with
 * `threads`, its processes' CPU is also split by thread role.
 */
export interface Component {
  pids: readonly number[];
  tree?: boolean;
  threads?: boolean;
}

export function cpuSnapshot(components: Record<string, Component>): CpuSnapshot {
  const out = new Map<string, Map<number, number>>();
  const threads = new Map<string, Map<string, { role: ThreadRole; ticks: number }>>();
  for (const [name, { pids, tree = true, threads: byThread = false }] of Object.entries(components)) {
    const perPid = new Map<number, number>();
    const perThread = new Map<string, { role: ThreadRole; ticks: number }>();
    for (const pid of tree ? descendants(pids) : pids) {
      const stat = readStat(pid);
      if (stat !== undefined) perPid.set(pid, stat.ticks);
      if (byThread) threadTicks(pid, perThread);
    }
    out.set(name, perPid);
    if (byThread) threads.set(name, perThread);
  }
  return { at: performance.now(), machine: machineBusyTicks(), components: out, threads };
}

export interface CpuUsage {
  /** Wall-clock seconds of the window. */
  seconds: number;
  /** Cores in use on average over the window, per component ("other": the rest of the machine). */
  cores: Record<string, number>;
  /** The machine's busy share, 0..1. */
  machineBusy: number;
  /** Cores in use per thread role, for the components split by thread. */
  threads?: Record<string, Partial<Record<ThreadRole, number>>>;
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
  const usage: CpuUsage = { seconds: round(seconds), cores, machineBusy: total > 0 ? round(busy / total) : 0 };
  if (after.threads.size > 0) {
    usage.threads = {};
    for (const [name, perThread] of after.threads) {
      const roles: Partial<Record<ThreadRole, number>> = {};
      for (const [key, { role, ticks }] of perThread) {
        roles[role] = (roles[role] ?? 0) + ticks - (before.threads.get(name)?.get(key)?.ticks ?? 0);
      }
      for (const role of Object.keys(roles) as ThreadRole[]) roles[role] = round(roles[role]! / TICKS_PER_SECOND / seconds);
      usage.threads[name] = roles;
    }
  }
  return usage;
}

const round = (x: number) => Math.round(x * 100) / 100;
