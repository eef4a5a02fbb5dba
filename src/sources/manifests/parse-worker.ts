// The worker thread of the first load (parse-ahead.ts): reads and parses the folder's files
// in order and hands each to the main thread, then ends. It runs at the process's priority:
// at nice 10 it lost the second core to V8's own helper threads (garbage collection,
// compilation) and the main thread ended up parsing most files itself.
import { parentPort, workerData } from 'node:worker_threads';
import { serveFiles, type WorkerSetup } from './parse-ahead.js';

serveFiles(workerData as WorkerSetup, (m, transfer) => parentPort!.postMessage(m, transfer));
