// The comparison for spur-app: the same three endpoints in the stack spur-app replaces —
// Express 5, mysql2 (pool), bcrypt and jsonwebtoken — on spur-app's database and JWT secret,
// with the same queries and response shapes:
//   POST /api/auth/login   GET /api/texts/:id   GET /api/texts?limit=20   GET /healthz
// Run: DATABASE_SOCKET=/path/mysqld.sock DATABASE_NAME=db JWT_SECRET=... node app.js PORT
'use strict';
const crypto = require('node:crypto');
const express = require('express');
const pool = require('./db');
const bcrypt = require('bcrypt');
const jwt = require('jsonwebtoken');

const port = Number(process.argv[2] || 8080);
const secret = process.env.JWT_SECRET;
const db = pool({ dateStrings: true });
const dummyHash = bcrypt.hashSync(crypto.randomBytes(16).toString('hex'), 10);
const iso = (s) => s.replace(' ', 'T') + 'Z';
const fail = (res, status, code, message) => res.status(status).json({ success: false, error: { code, message } });
const textJson = (r) => ({ id: r.id, title: r.title, content: r.content, created_at: iso(r.created_at), updated_at: iso(r.updated_at) });
const columns = 'SELECT id, title, content, created_at, updated_at FROM texts ';

const app = express();
app.set('etag', false);
app.set('x-powered-by', false);
app.use(express.json({ limit: '1mb' }));

// Liveness, as spur-app answers it: the app's stack around the smallest handler.
app.get('/healthz', (req, res) => res.set('Cache-Control', 'no-store').json({ status: 'ok' }));

async function requireToken(req, res, next) {
  const h = req.get('authorization') || '';
  if (!/^bearer /i.test(h)) return fail(res, 401, 'unauthorized', 'Missing or malformed bearer token');
  let claims;
  try {
    claims = jwt.verify(h.slice(7), secret, { algorithms: ['HS256'] });
  } catch {
    return fail(res, 401, 'unauthorized', 'Invalid or expired token');
  }
  const [revoked] = await db.execute('SELECT 1 FROM revoked_tokens WHERE jti = ?', [claims.jti]);
  if (revoked.length) return fail(res, 401, 'unauthorized', 'Token has been revoked');
  req.userId = claims.sub;
  next();
}

app.post('/api/auth/login', async (req, res) => {
  const { email, password } = req.body || {};
  if (typeof email !== 'string' || typeof password !== 'string') return fail(res, 400, 'validation_failed', 'email and password are required');
  const [rows] = await db.execute('SELECT id, email, name, password_hash, created_at FROM users WHERE email = ?', [email.toLowerCase()]);
  const user = rows[0];
  const ok = await bcrypt.compare(password, user ? user.password_hash : dummyHash);
  if (!user || !ok) return fail(res, 401, 'invalid_credentials', 'Invalid email or password');
  const iat = Math.floor(Date.now() / 1000);
  const token = jwt.sign({ sub: String(user.id), iat, exp: iat + 3600, jti: crypto.randomUUID() }, secret, { algorithm: 'HS256' });
  res.json({ success: true, user: { id: user.id, email: user.email, name: user.name, created_at: iso(user.created_at) }, token, expires_in: 3600 });
});

app.get('/api/texts/:id', requireToken, async (req, res) => {
  const [rows] = await db.execute(columns + 'WHERE id = ? AND user_id = ?', [req.params.id, req.userId]);
  if (!rows.length) return fail(res, 404, 'not_found', 'No such text');
  res.json({ success: true, text: textJson(rows[0]) });
});

app.get('/api/texts', requireToken, async (req, res) => {
  const limit = Math.min(Math.max(Number(req.query.limit) || 20, 1), 100);
  const offset = Math.max(Number(req.query.offset) || 0, 0);
  const [rows] = await db.query(columns + 'WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?', [req.userId, limit, offset]);
  const [[count]] = await db.execute('SELECT COUNT(*) AS n FROM texts WHERE user_id = ?', [req.userId]);
  res.json({ success: true, items: rows.map(textJson), total: count.n, limit, offset });
});

const server = app.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => db.end().then(() => process.exit(0))));
