// The worker thread of the first load (parse-ahead.ts): reads and parses the folder's files
// in order and hands each to the main thread, then ends.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { serveFiles, type WorkerSetup } from './parse-ahead.js';

// A lower priority for this thread alone (Linux applies it to the calling thread): it uses a
// core the main thread does not need, and yields when the machine is busy; the main thread
// then parses the files itself.
try {
  setPriority(10);
} catch {
  // not allowed here: the same work at the same priority
}

serveFiles(workerData as WorkerSetup, (m, transfer) => parentPort!.postMessage(m, transfer));
