// Parse workers that misbehave, for parse-ahead.test.ts and source.test.ts: they run the real
// worker loop (serveFiles) and then, by the name the test put in the environment,
//  - die: exit (code 3) when about to hand over the third file, which it has claimed;
//  - slow: wait 150 ms before handing over each file;
//  - throw: throw before handing over anything.
import { parentPort, workerData } from 'node:worker_threads';
import { serveFiles, type WorkerSetup } from '../../../src/sources/manifests/parse-ahead.js';

const how = process.env.ODD_PARSE_WORKER;
if (how === 'throw') throw new Error('this parse worker throws at start');
const nap = new Int32Array(new SharedArrayBuffer(4));
let n = 0;
serveFiles(workerData as WorkerSetup, (m, transfer) => {
  n++;
  if (how === 'die' && n === 3) process.exit(3);
  if (how === 'slow') Atomics.wait(nap, 0, 0, 150);
  parentPort!.postMessage(m, transfer);
});
