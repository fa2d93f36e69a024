// TechEmpower's database tests on Express 5 + mysql2 (pool of 16, prepared statements), as
// bench/servers/spur_techempower.cpp implements them: /db, /queries?queries=N, /fortunes,
// /updates?queries=N. Fortunes are escaped by hand (no template engine in this stack).
// Run: DATABASE_SOCKET=/path/mysqld.sock DATABASE_NAME=db DATABASE_USER=u DATABASE_PASSWORD=p node techempower.js PORT
'use strict';
const express = require('express');
const pool = require('./db');

const port = Number(process.argv[2] || 8080);
const db = pool();
const randomId = () => 1 + Math.floor(Math.random() * 10000);
const count = (q) => {
  const n = Number.parseInt(q, 10);
  return Number.isNaN(n) ? 1 : Math.min(500, Math.max(1, n));
};
const world = async () => (await db.execute('SELECT id, randomNumber FROM World WHERE id = ?', [randomId()]))[0][0];
const escape = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const app = express();
app.set('etag', false);
app.set('x-powered-by', false);

app.get('/db', async (req, res) => res.json(await world()));

app.get('/queries', async (req, res) => {
  const worlds = [];
  for (let i = count(req.query.queries); i > 0; --i) worlds.push(await world());
  res.json(worlds);
});

app.get('/fortunes', async (req, res) => {
  const [rows] = await db.execute('SELECT id, message FROM Fortune');
  rows.push({ id: 0, message: 'Additional fortune added at request time.' });
  rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  res.type('html').send('<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>' +
    rows.map((f) => `<tr><td>${f.id}</td><td>${escape(f.message)}</td></tr>`).join('') + '</table></body></html>');
});

app.get('/updates', async (req, res) => {
  const worlds = [];
  for (let i = count(req.query.queries); i > 0; --i) {
    const w = await world();
    w.randomNumber = randomId();
    worlds.push(w);
  }
  const sorted = [...worlds].sort((a, b) => a.id - b.id);
  const conn = await db.getConnection();
  try {
    await conn.beginTransaction();
    for (const w of sorted) await conn.execute('UPDATE World SET randomNumber = ? WHERE id = ?', [w.randomNumber, w.id]);
    await conn.commit();
  } catch (e) {
    await conn.rollback();
    throw e;
  } finally {
    conn.release();
  }
  res.json(worlds);
});

app.listen(port, '127.0.0.1');
