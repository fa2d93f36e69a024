#!/bin/sh
# with_database_url.sh URL_FILE COMMAND ARGS...: runs COMMAND with every argument "@url@"
# replaced by the URL in the file scripts/mariadb.sh wrote (its password is random); with
# --env before COMMAND, DATABASE_URL is set to it as well.
set -eu
url=$(cat "$1"); shift
env=
if [ "$1" = "--env" ]; then env=1; shift; fi
cmd=$1; shift
for a in "$@"; do
  shift
  if [ "$a" = "@url@" ]; then set -- "$@" "$url"; else set -- "$@" "$a"; fi
done
if [ -n "$env" ]; then export DATABASE_URL="$url"; fi
exec "$cmd" "$@"
