// Linux perf over a measured window (`npm run bench -- <scenario> --perf DIR`): samples the service replicas'
// threads while they run on a core (cpu-clock, with call chains), then writes the samples as text, symbols
// resolved, for bench/perf-attribution.ts. The replicas run with --perf-basic-prof so that perf can name V8's
// JIT-compiled functions (it reads /tmp/perf-PID.map, which the text is resolved against before the replica
// exits). perf is Debian's `linux-perf` package.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

/** Samples a second per core: enough for shares within a percent over 20 s, cheap for the replicas. */
const FREQUENCY_HZ = 499;

export interface PerfRecording {
  /** Ends the recording and writes the samples' text to the file given at the start. */
  stop(): Promise<void>;
}

/** Starts `perf record` on every thread of `pids`; `outFile` receives `perf script`'s text on stop. */
export async function startPerfRecord(pids: readonly number[], outFile: string): Promise<PerfRecording> {
  const dataFile = `${outFile}.data`;
  const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(FREQUENCY_HZ), '-g', '-p', pids.join(','), '-o', dataFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve, reject) => {
    perf.once('error', reject);
    perf.once('exit', resolve);
  });
  // perf attaches within a few milliseconds; a missing binary or a refused attach ends it at once.
  const early = await Promise.race([exited.then((code) => ({ code })), new Promise<undefined>((r) => setTimeout(() => r(undefined), 300))]).catch((error: Error) => ({ error }));
  if (early !== undefined) {
    const why = 'error' in early ? early.error.message : `exited with ${early.code}: ${stderr.trim().split('\n').at(-1)}`;
    throw new Error(`perf record failed (${why}); perf is Debian's linux-perf package`);
  }
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
      const script = spawnSync('perf', ['script', '-i', dataFile, '-F', 'comm,pid,tid,ip,sym,dso'], { maxBuffer: 2 ** 30, encoding: 'utf8' });
      if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr.trim().split('\n').at(-1)}`);
      writeFileSync(outFile, script.stdout);
      rmSync(dataFile, { force: true });
    },
  };
}
