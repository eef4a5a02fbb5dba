// GET http://127.0.0.1:PORT/PATH from inside one of the harness's namespaces (it checks
// first) and print the body: how kernel tests read a node's /metrics without curl.
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();
const url = process.argv[2];
if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) {
  process.stderr.write('http-get: only http://127.0.0.1:PORT/... is allowed\n');
  process.exit(2);
}
const res = await fetch(url);
process.stdout.write(await res.text());
