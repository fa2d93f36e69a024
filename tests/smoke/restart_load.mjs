// Load for the restart test: WORKERS loops of GET URL, each on a new connection (as a client
// behind no pool would), until DURATION_MS passes; prints "sent N failed M" and the failures.
// Every request counts: no retries, so a request lost in a restart shows as a failure.
import http from 'node:http';

const [url, durationMs = '8000', workers = '8'] = process.argv.slice(2);
const end = Date.now() + Number(durationMs);
let sent = 0, failed = 0;
const reasons = new Map();

function once() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 15000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? null : `status ${res.statusCode}`));
      res.on('error', (e) => resolve(e.code || e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e.code || e.message));
  });
}

async function worker() {
  while (Date.now() < end) {
    sent++;
    const failure = await once();
    if (failure) {
      failed++;
      reasons.set(failure, (reasons.get(failure) || 0) + 1);
    }
  }
}

await Promise.all(Array.from({ length: Number(workers) }, worker));
console.log(`sent ${sent} failed ${failed}`);
for (const [reason, n] of reasons) console.log(`  ${n} x ${reason}`);
process.exit(failed === 0 && sent > 0 ? 0 : 1);
