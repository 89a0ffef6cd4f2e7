// Preloaded (NODE_OPTIONS=--import) into the child named by BENCH_CPU_PROF: Node refuses --cpu-prof
// in NODE_OPTIONS, and RelayProcess fixes the command line, so the profile is taken through the
// inspector and written when the process exits (the relay exits cleanly on SIGTERM).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable');
// 100 µs sampling instead of V8's 1 ms default: the hot path is a few hundred µs per request.
session.post('Profiler.setSamplingInterval', { interval: 100 });
session.post('Profiler.start');
process.on('exit', () => {
  // Same-thread inspector sessions answer synchronously, so this completes inside the exit handler.
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(join(dir, `${process.env.BENCH_CPU_PROF_ROLE ?? 'child'}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  });
});
