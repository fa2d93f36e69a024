#!/usr/bin/env bash
# A spur-app cluster on this machine: three MariaDB Galera nodes, three spur-app instances and
# HAProxy in front, all on 127.0.0.1, all state under $CLUSTER_DIR (default var/cluster).
#
#   scripts/cluster.sh up              installs what is missing, builds spur-app (unless SPUR_APP
#                                      names a binary), starts whatever is not running; prints the
#                                      balancer's URL as its last line
#   scripts/cluster.sh down [--wipe]   stops everything (--wipe also deletes the data)
#   scripts/cluster.sh status          each part, up or down, and the Galera state of each node
#   scripts/cluster.sh kill-app N      SIGKILL spur-app instance N (1-3)
#   scripts/cluster.sh stop-app N      SIGTERM it (it drains, then exits)
#   scripts/cluster.sh start-app N
#   scripts/cluster.sh stop-db N       node N leaves the cluster (clean shutdown)
#   scripts/cluster.sh start-db N      node N rejoins (IST from a donor, or SST by rsync)
#   scripts/cluster.sh sql N 'SQL'     runs SQL on node N as root (for checks)
#
# Ports, from CLUSTER_PORT (default 3100): balancer +0, HAProxy's status page +50, spur-app
# n at +n, MariaDB node n at +10+n, Galera group traffic +20+n, IST +30+n, SST +40+n, the AI
# service of node n at +60+n. One AI service per node, each beside its spur-app (as a model
# server would run on each host): an instance never waits on another host's service, and
# killing one node's app leaves the other nodes' summaries alone.
# mariadbd runs as the `mysql` user: as root, the rsync state transfer cannot enter the data
# directory (../shared/galera-on-this-machine.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(realpath -m "${CLUSTER_DIR:-$root/var/cluster}")
base=${CLUSTER_PORT:-3100}
nodes=(1 2 3)
galera=/usr/lib/galera/libgalera_smm.so

db_port() { echo $((base + 10 + $1)); }
app_port() { echo $((base + $1)); }
ai_port() { echo $((base + 60 + $1)); }
group_addresses() { local a=() n; for n in "${nodes[@]}"; do a+=("127.0.0.1:$((base + 20 + n))"); done; (IFS=,; echo "${a[*]}"); }
db_hosts() { local a=() n; for n in "${nodes[@]}"; do a+=("127.0.0.1:$(db_port "$n")"); done; (IFS=,; echo "${a[*]}"); }
sock() { echo "$dir/db$1/mysqld.sock"; }
sql() { local n=$1; shift; mariadb --no-defaults --socket="$(sock "$n")" -uroot -N -B "$@"; }
db_alive() { mariadb-admin --no-defaults --socket="$(sock "$1")" -uroot ping >/dev/null 2>&1; }
wsrep() { sql "$1" -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2; }
# Running, not a zombie: a process started by an earlier run of this script has no parent left
# to reap it, and kill -0 succeeds on a zombie.
proc_alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }
pid_alive() { [[ -s $1 ]] && proc_alive "$(cat "$1")"; }
app_alive() { pid_alive "$dir/app$1.pid"; }
ai_alive() { pid_alive "$dir/ai$1.pid"; }
check_n() { [[ ${1:-} =~ ^[123]$ ]] || { echo "cluster.sh: N must be 1, 2 or 3" >&2; exit 2; }; }
wait_for() {  # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" && return 0; sleep 0.1; done
  echo "cluster.sh: $what did not happen within ${seconds}s" >&2
  return 1
}
db_synced() { db_alive "$1" && [[ $(wsrep "$1" wsrep_local_state_comment) == Synced ]]; }
# Synced, or give up at once when its mariadbd has exited.
db_synced_or_gone() {
  db_synced "$1" && return 0
  proc_alive "$2" && return 1
  echo "cluster.sh: mariadbd of node $1 exited:" >&2
  grep -E 'ERROR' "$dir/db$1/error.log" | tail -5 >&2
  exit 1
}
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Before a first start: every port this cluster would listen on must be free (another cluster,
# or anything else, on them fails later in ways harder to read).
check_ports() {
  local p n
  for n in "${nodes[@]}"; do
    db_alive "$n" && return 0
    app_alive "$n" && return 0
  done
  for p in $base $((base + 50)); do port_taken "$p" && { echo "cluster.sh: port $p is in use (set CLUSTER_PORT)" >&2; exit 1; }; done
  for n in "${nodes[@]}"; do
    for p in $((base + n)) $((base + 10 + n)) $((base + 20 + n)) $((base + 30 + n)) $((base + 40 + n)) $((base + 60 + n)); do
      port_taken "$p" && { echo "cluster.sh: port $p is in use (set CLUSTER_PORT)" >&2; exit 1; }
    done
  done
  return 0
}
app_ready() { curl -fs -o /dev/null "http://127.0.0.1:$(app_port "$1")/readyz"; }
ai_ready() { curl -fs -o /dev/null "http://127.0.0.1:$(ai_port "$1")/healthz"; }
any_db_running() { local n; for n in "${nodes[@]}"; do db_alive "$n" && return 0; done; return 1; }

start_db() {
  local n=$1 d="$dir/db$1" new_cluster=()
  db_alive "$n" && return 0
  mkdir -p "$d/data"
  chown -R mysql:mysql "$d"
  chmod 700 "$d"
  if ! any_db_running; then
    # The cluster starts from this node. Galera marks the last node to leave safe_to_bootstrap;
    # `down` stops node 1 last. After a crash no node is marked: node 1 is then forced (this is a
    # development cluster; in production pick the node with the highest seqno).
    if [[ ! -d $d/data/mysql ]]; then
      mariadb-install-db --no-defaults --datadir="$d/data" --user=mysql --auth-root-authentication-method=socket \
        --auth-root-socket-user=root --skip-test-db >"$d/install.log" 2>&1 || { cat "$d/install.log" >&2; exit 1; }
    elif [[ -f $d/data/grastate.dat ]]; then
      sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$d/data/grastate.dat"
    fi
    new_cluster=(--wsrep-new-cluster)
  fi
  # setsid: the server outlives this script and does not get the caller's Ctrl-C.
  setsid mariadbd --no-defaults --user=mysql --datadir="$d/data" --socket="$(sock "$n")" \
    --port="$(db_port "$n")" --bind-address=127.0.0.1 --skip-name-resolve \
    --pid-file="$d/mysqld.pid" --log-error="$d/error.log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=64M --max-connections=300 \
    --binlog-format=ROW --innodb-autoinc-lock-mode=2 --default-storage-engine=InnoDB \
    --wsrep-on=ON --wsrep-provider="$galera" --wsrep-cluster-name=spur \
    --wsrep-cluster-address="gcomm://$(group_addresses)" --wsrep-node-name="db$n" \
    --wsrep-node-address=127.0.0.1 --wsrep-node-incoming-address="127.0.0.1:$(db_port "$n")" \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$((base + 20 + n));ist.recv_addr=127.0.0.1:$((base + 30 + n))" \
    --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((base + 40 + n))" \
    "${new_cluster[@]}" </dev/null >/dev/null 2>&1 &
  local pid=$!
  wait_for 120 "node $n synced" db_synced_or_gone "$n" "$pid" || { tail -30 "$d/error.log" >&2; exit 1; }
}

stop_db() {
  local n=$1
  db_alive "$n" || return 0
  local pid
  pid=$(cat "$dir/db$n/mysqld.pid" 2>/dev/null || true)
  mariadb-admin --no-defaults --socket="$(sock "$n")" -uroot shutdown
  [[ -z $pid ]] || wait_for 60 "node $n stopped" eval "! proc_alive $pid"
}

# The app's account, its database, and the secrets every instance shares (so a token signed by
# one is accepted by all).
prepare_database() {
  [[ -s $dir/password ]] || (umask 077 && openssl rand -hex 24 >"$dir/password")
  [[ -s $dir/jwt_secret ]] || (umask 077 && openssl rand -base64 48 | tr -d '\n' >"$dir/jwt_secret")
  local password n
  password=$(cat "$dir/password")
  for n in "${nodes[@]}"; do db_alive "$n" && break; done
  sql "$n" -e "
    CREATE DATABASE IF NOT EXISTS spur CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CREATE USER IF NOT EXISTS 'spur'@'127.0.0.1' IDENTIFIED BY '$password';
    GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES
      ON spur.* TO 'spur'@'127.0.0.1';"
  # causal_reads: an instance whose connections moved to another node during a fault still
  # finds every write committed through the others (spur::mysql::Config::causal_reads);
  # max_lifetime: a minute after node 1 is back, every connection is on it again.
  (umask 077 && echo "mysql://spur:$password@$(db_hosts)/spur?causal_reads=1&max_lifetime_ms=60000" >"$dir/database-url")
}

# The binary `up` started (so start-app runs the same one), else SPUR_APP, else the release build.
app_binary() {
  if [[ -n ${SPUR_APP:-} ]]; then echo "$SPUR_APP"
  elif [[ -s $dir/spur-app-binary ]]; then cat "$dir/spur-app-binary"
  else echo "$root/build/release/app/spur-app"; fi
}

# Every instance lists the nodes in the same order, so all of them write to one node while it
# is up (no certification conflicts between instances) and move together when it goes.
app_env() {
  export DATABASE_URL_FILE="$dir/database-url" JWT_SECRET_FILE="$dir/jwt_secret" HOST=127.0.0.1 \
    TRUSTED_PROXIES=127.0.0.1 LOG_FORMAT=json DRAIN_DELAY=2
}

start_ai() {
  local n=$1
  ai_alive "$n" && return 0
  # exec in serve.sh: $! is uvicorn itself.
  (exec setsid "$root/services/ai/serve.sh" "$(ai_port "$n")") </dev/null >>"$dir/ai$n.log" 2>&1 &
  echo $! >"$dir/ai$n.pid"
  wait_for 30 "AI service $n ready" ai_ready "$n" || { tail -20 "$dir/ai$n.log" >&2; exit 1; }
}

stop_ai() {
  local n=$1 pid
  ai_alive "$n" || return 0
  pid=$(cat "$dir/ai$n.pid")
  kill "$pid"
  wait_for 30 "AI service $n stopped" eval "! proc_alive $pid"
  rm -f "$dir/ai$n.pid"
}

# Three migrators at once, each preferring a different node: the schema lock must hold across
# nodes (spur::mysql::Migrator's row lease, framework/src/mysql/migration_lease.cpp).
migrate() {
  local pids=() n hosts
  for n in "${nodes[@]}"; do
    hosts=$(db_hosts | tr , '\n' | awk -v s="$n" '{a[NR]=$0} END {for (i = 0; i < NR; i++) printf "%s%s", (i ? "," : ""), a[(s - 1 + i) % NR + 1]}')
    DATABASE_URL="mysql://spur:$(cat "$dir/password")@$hosts/spur" JWT_SECRET_FILE="$dir/jwt_secret" \
      "$(app_binary)" migrate >"$dir/migrate$n.log" 2>&1 &
    pids+=($!)
  done
  local failed=0
  for n in "${!pids[@]}"; do wait "${pids[$n]}" || { failed=1; cat "$dir/migrate$((n + 1)).log" >&2; }; done
  ((failed == 0)) || exit 1
}

start_app() {
  local n=$1
  app_alive "$n" && return 0
  # exec: $! is spur-app itself (kill-app must signal it, not a shell around it).
  (app_env && export PORT="$(app_port "$n")" AI_SERVICE_URL="http://127.0.0.1:$(ai_port "$n")" &&
    exec setsid "$(app_binary)" serve) </dev/null >>"$dir/app$n.log" 2>&1 &
  echo $! >"$dir/app$n.pid"
  wait_for 30 "spur-app $n ready" app_ready "$n" || { tail -20 "$dir/app$n.log" >&2; exit 1; }
}

stop_app() {  # signal
  local n=$1 signal=$2 pid
  app_alive "$n" || return 0
  pid=$(cat "$dir/app$n.pid")
  kill "-$signal" "$pid"
  wait_for 30 "spur-app $n stopped" eval "! proc_alive $pid"
  rm -f "$dir/app$n.pid"
}

haproxy_config() {
  local n
  cat <<EOF
global
    maxconn 4096
    pidfile $dir/haproxy.pid

defaults
    mode http
    option forwardfor
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    # Passive failover: a refused connection is tried on another instance; a GET or HEAD that
    # got no answer too (never a POST: it may have been applied).
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend spur
    bind 127.0.0.1:$base
    # spur-app reads only X-Forwarded-For (which forwardfor appends to); a client's own
    # Forwarded header is dropped here as well, belt and braces.
    http-request del-header Forwarded
    # spur reads X-Forwarded-Proto from its trusted proxies: this listener is plain HTTP, and a
    # client's own "https" must not make spur-app think it was (Secure cookies, __Host- names).
    http-request set-header X-Forwarded-Proto http
    http-request disable-l7-retry if !METH_GET !METH_HEAD
    # Sign-in and registration, per client address across every instance (spur-app's own
    # throttles count per instance: docs/deployment.md).
    stick-table type ip size 100k expire 10m store http_req_rate(1m)
    acl auth path /api/auth/login /api/auth/session /api/auth/register
    http-request track-sc0 src if auth METH_POST
    http-request return status 429 content-type application/json hdr Retry-After 60 lf-string '{"success":false,"error":{"code":"too_many_requests","message":"Too many sign-in attempts from this address; try again in a minute","request_id":"%[uuid]"}}' if auth METH_POST { sc_http_req_rate(0) gt ${AUTH_PER_MINUTE:-30} }
    default_backend apps

backend apps
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 2 observe layer4 error-limit 3 on-error mark-down
EOF
  for n in "${nodes[@]}"; do echo "    server app$n 127.0.0.1:$(app_port "$n") check"; done
  cat <<EOF

listen status
    bind 127.0.0.1:$((base + 50))
    stats enable
    stats uri /
    stats refresh 2s
EOF
}

start_haproxy() {
  haproxy_config >"$dir/haproxy.cfg"
  haproxy -c -q -f "$dir/haproxy.cfg"
  if pid_alive "$dir/haproxy.pid"; then
    kill -USR2 "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
    return 0
  fi
  haproxy -D -f "$dir/haproxy.cfg"
  wait_for 10 "HAProxy listening" curl -fsS -o /dev/null "http://127.0.0.1:$((base + 50))/"
}

status() {
  local n
  for n in "${nodes[@]}"; do
    if db_alive "$n"; then
      printf 'db%s   127.0.0.1:%s  up    %s, cluster size %s\n' "$n" "$(db_port "$n")" \
        "$(wsrep "$n" wsrep_local_state_comment)" "$(wsrep "$n" wsrep_cluster_size)"
    else
      printf 'db%s   127.0.0.1:%s  down\n' "$n" "$(db_port "$n")"
    fi
  done
  for n in "${nodes[@]}"; do
    if app_alive "$n" && app_ready "$n"; then state=ready; elif app_alive "$n"; then state="up, not ready"; else state=down; fi
    printf 'app%s  127.0.0.1:%s  %s\n' "$n" "$(app_port "$n")" "$state"
  done
  for n in "${nodes[@]}"; do
    if ai_alive "$n" && ai_ready "$n"; then state=ready; elif ai_alive "$n"; then state="up, not ready"; else state=down; fi
    printf 'ai%s   127.0.0.1:%s  %s\n' "$n" "$(ai_port "$n")" "$state"
  done
  if pid_alive "$dir/haproxy.pid"; then echo "haproxy 127.0.0.1:$base up (status page http://127.0.0.1:$((base + 50))/)"; else echo "haproxy down"; fi
}

cmd=${1:-}
case $cmd in
up)
  "$root/scripts/install-deps.sh" galera-4 rsync haproxy
  if [[ -z ${SPUR_APP:-} ]]; then
    (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release) >&2
  fi
  mkdir -p "$dir"
  chmod 711 "$dir"  # mariadbd (user mysql) must reach its data directory below
  check_ports
  app_binary >"$dir/spur-app-binary.new" && mv "$dir/spur-app-binary.new" "$dir/spur-app-binary"
  start_db 1
  start_db 2
  start_db 3
  prepare_database
  migrate
  for n in "${nodes[@]}"; do start_ai "$n"; done
  for n in "${nodes[@]}"; do start_app "$n"; done
  start_haproxy
  status >&2
  echo "http://127.0.0.1:$base"
  ;;
down)
  pid_alive "$dir/haproxy.pid" && kill "$(cat "$dir/haproxy.pid")" && rm -f "$dir/haproxy.pid"
  for n in "${nodes[@]}"; do stop_app "$n" TERM; done
  for n in "${nodes[@]}"; do stop_ai "$n"; done
  for n in 3 2 1; do stop_db "$n"; done  # node 1 last: it bootstraps the next `up`
  [[ ${2:-} != --wipe ]] || rm -rf "$dir"
  ;;
status) status ;;
kill-app) check_n "${2:-}"; stop_app "$2" KILL ;;
stop-app) check_n "${2:-}"; stop_app "$2" TERM ;;
start-app) check_n "${2:-}"; start_app "$2" ;;
stop-db) check_n "${2:-}"; stop_db "$2" ;;
start-db) check_n "${2:-}"; start_db "$2" ;;
sql) check_n "${2:-}"; sql "$2" spur -e "${3:?SQL}" ;;
*)
  sed -n '2,20p' "$0" >&2
  exit 2
  ;;
esac
