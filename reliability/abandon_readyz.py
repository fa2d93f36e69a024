#!/usr/bin/env python3
# Issue #31 finding 6 against a running spur-app: 20 threads open a connection, send
# GET /readyz and leave at once, for 5 s, while a bystander asks GET /api/auth/me (one statement)
# and records its latency. Count the server's new connections around it:
#   mariadb -e "SHOW GLOBAL STATUS LIKE 'Connections'"   (before and after)
#   python3 reliability/abandon_readyz.py PORT
# Figures: docs/mysql.md "Callers that leave mid-statement".
import http.client, json, socket, statistics, sys, threading, time
port = int(sys.argv[1])
def call(method, path, body=None, headers={}):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json", **headers})
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data
email = f"bystander{int(time.time()*1000)}@example.test"
print("register", call("POST", "/api/auth/register", {"email": email, "password": "correct horse battery"})[0])
st, data = call("POST", "/api/auth/login", {"email": email, "password": "correct horse battery"})
token = json.loads(data)["token"]
auth = {"Authorization": "Bearer " + token}
def bystander(samples, stop):
    while not stop.is_set():
        t = time.perf_counter(); st, _ = call("GET", "/api/auth/me", headers=auth)
        samples.append(((time.perf_counter() - t) * 1000, st))
quiet = []; stop = threading.Event()
th = threading.Thread(target=bystander, args=(quiet, stop)); th.start(); time.sleep(3); stop.set(); th.join()
sent = [0]
def abandon(until):
    while time.time() < until:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.002)
        s.close(); sent[0] += 1
loaded = []; stop = threading.Event()
until = time.time() + 5
ths = [threading.Thread(target=abandon, args=(until,)) for _ in range(20)]
b = threading.Thread(target=bystander, args=(loaded, stop))
for t in ths: t.start()
b.start()
for t in ths: t.join()
stop.set(); b.join()
med = lambda xs: statistics.median(x for x, _ in xs)
print(f"abandoned /readyz requests: {sent[0]}")
print(f"bystander /api/auth/me median: quiet {med(quiet):.1f} ms ({len(quiet)}), under abandonment {med(loaded):.1f} ms ({len(loaded)}), non-200: {sum(1 for _, s in loaded if s != 200)}")
