// Express 5 on the benchmark endpoints, matching bench/servers/spur_server.cpp:
// /plaintext, /json, and a two-parameter route among 100 behind request id, CORS and
// an access log written to /dev/null.
// Run: node server.js PORT            (one process)
//      node server.js PORT --cluster  (node cluster, one worker per core)
'use strict';
const cluster = require('node:cluster');
const os = require('node:os');
const fs = require('node:fs');
const crypto = require('node:crypto');
const express = require('express');
const cors = require('cors');
const morgan = require('morgan');

const port = Number(process.argv[2] || 8080);

if (process.argv.includes('--cluster') && cluster.isPrimary) {
  for (let i = 0; i < os.availableParallelism(); i++) cluster.fork();
  process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); });
} else {
  const app = express();
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.get('/plaintext', (req, res) => { res.type('text/plain').send('Hello, World!'); });
  app.get('/json', (req, res) => { res.json({ message: 'Hello, World!' }); });

  const routed = express.Router();
  routed.use((req, res, next) => { res.set('X-Request-Id', crypto.randomUUID()); next(); });
  routed.use(cors({ origin: '*' }));
  routed.use(morgan('combined', { stream: fs.createWriteStream('/dev/null') }));
  for (let i = 0; i < 49; i++) {
    routed.get(`/resource${i}/:id`, (req, res) => { res.send('x'); });
    routed.post(`/resource${i}`, (req, res) => { res.status(201).end(); });
  }
  routed.get('/users/:user/posts/:post', (req, res) => { res.json({ user: req.params.user, post: req.params.post }); });
  routed.put('/users/:user/posts/:post', (req, res) => { res.status(204).end(); });
  app.use('/r', routed);

  const server = app.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
