"""Flask on the benchmark endpoints, matching bench/servers/spur_server.cpp.

Run: gunicorn --workers N --bind 127.0.0.1:PORT --chdir bench/flask app:app
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
def json():
    return jsonify(message="Hello, World!")
