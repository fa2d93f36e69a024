#!/bin/sh
# The secret files compose.yaml mounts, generated once (an existing file is kept):
#   scripts/compose-secrets.sh [DIR]        DIR defaults to secrets/ beside compose.yaml
# db_password and database_url carry the same password (MariaDB's user `spur`, spur-app's URL).
# All are mode 600. spur-app runs as uid 10001 and reads its two through a bind mount, so they
# must belong to 10001 on the host: done here when run as root, printed otherwise.
set -eu
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/secrets}
umask 077
mkdir -p "$dir"
random() { head -c "$1" /dev/urandom | base64 | tr -d '\n/+='; }
[ -s "$dir/db_password" ] || random 24 >"$dir/db_password"
[ -s "$dir/db_root_password" ] || random 24 >"$dir/db_root_password"
[ -s "$dir/database_url" ] || printf 'mysql://spur:%s@db:3306/spur\n' "$(cat "$dir/db_password")" >"$dir/database_url"
[ -s "$dir/jwt_secret" ] || random 48 >"$dir/jwt_secret"
uid=$(id -u)
for f in "$dir"/db_password "$dir"/db_root_password "$dir"/database_url "$dir"/jwt_secret; do
  # A file a previous run handed to uid 10001 (podman unshare chown) is no longer ours to chmod.
  if [ "$uid" -eq 0 ] || [ -O "$f" ]; then chmod 600 "$f"; fi
done
if [ "$uid" -eq 0 ]; then
  chown 10001:10001 "$dir/database_url" "$dir/jwt_secret"
else
  echo "spur-app (uid 10001 in its image) must own $dir/database_url and $dir/jwt_secret:"
  echo "  Docker:          sudo chown 10001:10001 $dir/database_url $dir/jwt_secret"
  echo "  rootless Podman: podman unshare chown 10001:10001 $dir/database_url $dir/jwt_secret"
fi
