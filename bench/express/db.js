// The mysql2 pool both Express peers use: spur-app's database through its unix socket, 16
// connections (spur's pools in bench are the same size). DATABASE_SOCKET, DATABASE_NAME,
// DATABASE_USER (default root) and DATABASE_PASSWORD come from bench/run.py.
'use strict';
const mysql = require('mysql2/promise');

module.exports = (options = {}) =>
  mysql.createPool({
    socketPath: process.env.DATABASE_SOCKET,
    user: process.env.DATABASE_USER || 'root',
    password: process.env.DATABASE_PASSWORD,
    database: process.env.DATABASE_NAME,
    connectionLimit: 16,
    ...options,
  });
