# Shared by the smoke scripts: wait_for_port LOG [SCHEME] prints the port from a
# "listening on SCHEME://host:PORT" line in LOG (SCHEME defaults to http), waiting up to 5 s;
# it fails (printing the log) if none appears.
wait_for_port() {
  local log=$1 scheme=${2:-http} port=
  for _ in $(seq 100); do
    port=$(sed -n "s/.*listening on $scheme:\/\/[^:]*:\([0-9]*\).*/\1/p" "$log" | head -n1)
    [[ -n $port ]] && { echo "$port"; return 0; }
    sleep 0.05
  done
  echo "no 'listening on' line in the log:" >&2
  cat "$log" >&2
  return 1
}
