#!/usr/bin/env bash
# A private MariaDB server for spur's tests and spur-app's default run, listening on a unix
# socket only (no TCP port to collide with anything).
#   scripts/mariadb.sh start DIR [DATABASE] [--fresh]   prints the DATABASE_URL on stdout
#   scripts/mariadb.sh stop DIR
# The data directory DIR/data is created on first start and reused after (--fresh wipes it).
# Only the owner can reach the socket (DIR is 0700). The app user `spur` gets a random password,
# generated once per DIR and kept in DIR/password (0600), and rights on DATABASE only. The URL is
# also written to DIR/DATABASE.url (0600), for DATABASE_URL_FILE and the tests.
set -euo pipefail
cmd=${1:?start|stop}; dir=$(realpath -m "${2:?directory}"); database=${3:-spur}; fresh=${4:-}
sock=$dir/mysqld.sock
me=$(id -un)
admin() { mariadb-admin --no-defaults --socket="$sock" -u"$me" "$@"; }

case $cmd in
start)
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ ! -s $dir/password ]]; then (umask 077 && openssl rand -hex 24 >"$dir/password"); fi
  password=$(cat "$dir/password")
  if [[ $fresh == --fresh ]] && [[ -d $dir/data ]]; then
    admin shutdown >/dev/null 2>&1 || true
    rm -rf "$dir/data"
  fi
  if [[ ! -d $dir/data/mysql ]]; then
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$me" --auth-root-authentication-method=socket \
      --auth-root-socket-user="$me" --skip-test-db >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
  fi
  if ! admin ping >/dev/null 2>&1; then
    # setsid: the server outlives this script and does not get the caller's Ctrl-C.
    setsid mariadbd --no-defaults --datadir="$dir/data" --socket="$sock" --skip-networking \
      --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" --user="$me" \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --innodb-buffer-pool-size=128M --max-connections=500 </dev/null >/dev/null 2>&1 &
    for _ in $(seq 300); do admin ping >/dev/null 2>&1 && break; sleep 0.1; done
    admin ping >/dev/null 2>&1 || { echo "mariadbd did not start:" >&2; tail -20 "$dir/error.log" >&2; exit 1; }
  fi
  mariadb --no-defaults --socket="$sock" -u"$me" -e "
    CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CREATE USER IF NOT EXISTS 'spur'@'localhost' IDENTIFIED BY '$password';
    ALTER USER 'spur'@'localhost' IDENTIFIED BY '$password';
    GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES
      ON \`$database\`.* TO 'spur'@'localhost';
    -- A data directory from before these limits granted everything: take the rest back.
    REVOKE EXECUTE, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER, LOCK TABLES,
      DELETE HISTORY, GRANT OPTION ON \`$database\`.* FROM 'spur'@'localhost';"
  url="mysql://spur:$password@localhost/$database?socket=$sock"
  (umask 077 && echo "$url" >"$dir/$database.url")
  echo "$url"
  ;;
stop)
  if admin ping >/dev/null 2>&1; then admin shutdown; fi
  ;;
*)
  echo "usage: $0 start|stop DIR [DATABASE] [--fresh]" >&2; exit 2 ;;
esac
