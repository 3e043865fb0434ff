// One client of test/system/docker.test.ts's load, run inside a container on the stack's network, so that it has an
// address of its own: NGINX limits each client address to 100 requests/s, and several such clients make the
// load the way several users would. autocannon sends a new text on each request (no cached answers) until
// SIGTERM, then the client prints its counts, and the first answers that were not 2xx, as one line of JSON.
//
//   node load-client.mjs http://nginx/api/predict 50     # 50 connections, one request per second each
import autocannon from 'autocannon';

const [url, connections] = process.argv.slice(2);
let sent = 0;
const failures = [];
const instance = autocannon({
  url,
  connections: Number(connections),
  connectionRate: 1,
  duration: 600,
  requests: [{
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (request) => ({ ...request, body: JSON.stringify({ text: `load ${process.pid}-${sent++}: what a ${sent % 2 ? 'great' : 'dull'} game tonight` }) }),
    onResponse: (status, body, _context, headers) => {
      if ((status < 200 || status > 299) && failures.length < 5) failures.push({ at: new Date().toISOString(), status, body, headers });
    },
  }],
});
process.once('SIGTERM', () => instance.stop());
const result = await instance;
console.log(JSON.stringify({
  '2xx': result['2xx'], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, resets: result.resets,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
  failures,
}));
