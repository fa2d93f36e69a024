"""TechEmpower's database tests on Flask + MySQLdb (Debian's python3-mysqldb, the C client),
as bench/servers/spur_techempower.cpp implements them: /db, /queries?queries=N, /fortunes
(Jinja2, autoescaped), /updates?queries=N. One connection per gunicorn worker, as the
TechEmpower Flask entries use with synchronous workers.

Run: DATABASE_SOCKET=... DATABASE_NAME=... DATABASE_USER=... DATABASE_PASSWORD=... \\
     gunicorn --workers 1 --bind 127.0.0.1:PORT techempower:app
"""
import os
import random

import MySQLdb
from flask import Flask, jsonify, render_template_string, request

app = Flask(__name__)
_db = None

FORTUNES = ("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>"
            "{% for f in fortunes %}<tr><td>{{ f[0] }}</td><td>{{ f[1] }}</td></tr>{% endfor %}</table></body></html>")


def db():
    global _db
    if _db is None:
        _db = MySQLdb.connect(unix_socket=os.environ["DATABASE_SOCKET"], db=os.environ["DATABASE_NAME"],
                              user=os.environ.get("DATABASE_USER", "root"), passwd=os.environ.get("DATABASE_PASSWORD", ""),
                              charset="utf8mb4", autocommit=True)
    return _db


def count():
    try:
        n = int(request.args.get("queries", "1"))
    except ValueError:
        n = 1
    return min(500, max(1, n))


def world(cursor):
    cursor.execute("SELECT id, randomNumber FROM World WHERE id = %s", (random.randint(1, 10000),))
    row = cursor.fetchone()
    return {"id": row[0], "randomNumber": row[1]}


@app.get("/db")
def single():
    with db().cursor() as c:
        return jsonify(world(c))


@app.get("/queries")
def queries():
    with db().cursor() as c:
        return jsonify([world(c) for _ in range(count())])


@app.get("/fortunes")
def fortunes():
    with db().cursor() as c:
        c.execute("SELECT id, message FROM Fortune")
        rows = list(c.fetchall())
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=lambda f: f[1])
    return render_template_string(FORTUNES, fortunes=rows)


@app.get("/updates")
def updates():
    conn = db()
    with conn.cursor() as c:
        worlds = [world(c) for _ in range(count())]
        for w in worlds:
            w["randomNumber"] = random.randint(1, 10000)
        conn.begin()
        try:
            rows = sorted(((w["randomNumber"], w["id"]) for w in worlds), key=lambda t: t[1])
            c.executemany("UPDATE World SET randomNumber = %s WHERE id = %s", rows)
            conn.commit()
        except Exception:
            conn.rollback()
            raise
    return jsonify(worlds)
