// The worker thread of the first load (parse-ahead.ts): reads and parses the folder's files
// in order and hands each to the main thread, then ends.
import { parentPort, workerData } from 'node:worker_threads';
import { serveFiles, type WorkerSetup } from './parse-ahead.js';

serveFiles(workerData as WorkerSetup, (m, transfer) => parentPort!.postMessage(m, transfer));
