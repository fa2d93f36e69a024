#!/usr/bin/env bash
# Faults on a cluster (see reliability/cluster.py): starts a fresh three-node Galera cluster with
# three spur-app instances and HAProxy (scripts/cluster.sh, ports from 3200, state in
# build/reliability/cluster), runs spur::mysql's Galera tests against it when built
# (build/ci/tests/spur_galera_tests, or SPUR_GALERA_TESTS), then the fault test, and removes it all.
#   reliability/cluster.sh [--phase-seconds S] [--writers N] [--readers N] [--pause S] ...
# The test command runs a short form: --phase-seconds 3 --writers 2 --readers 1 --pause 0.05
# --max-join-error-rate 0.6 (CTest cluster_smoke).
# SPUR_APP names the spur-app binary (default: build/release, built here).
# Prints a JSON summary and PASS/FAIL; exits non-zero on FAIL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CLUSTER_DIR=${CLUSTER_DIR:-$root/build/reliability/cluster} CLUSTER_PORT=${CLUSTER_PORT:-3200}
# The load signs in a few users and writes thousands of texts: lift the per-account limits.
export LOGIN_BURST_PER_IP=1000 REGISTER_BURST_PER_IP=1000 MAX_TEXTS_PER_USER=10000000 \
  MAX_TEXT_BYTES_PER_USER=10000000000 BCRYPT_COST=10
cluster=$root/scripts/cluster.sh
"$cluster" down --wipe >/dev/null 2>&1 || true
trap '"$cluster" down --wipe >/dev/null 2>&1 || true' EXIT
trap 'exit 1' INT TERM  # so that the EXIT trap takes the cluster down
mkdir -p "${CLUSTER_DIR%/*}"
"$cluster" up >"${CLUSTER_DIR%/*}/cluster-up.log" 2>&1 || { cat "${CLUSTER_DIR%/*}/cluster-up.log" >&2; exit 1; }
tests=${SPUR_GALERA_TESTS:-$root/build/ci/tests/spur_galera_tests}
if [[ -x $tests ]]; then
  SPUR_CLUSTER_DIR=$CLUSTER_DIR SPUR_CLUSTER_SH=$cluster "$tests"
else
  echo "cluster: $tests not built; skipping spur::mysql's Galera tests" >&2
fi
status=0
/usr/bin/python3 "$root/reliability/cluster.py" --cluster-sh "$cluster" --port "$CLUSTER_PORT" \
  --cluster-dir "$CLUSTER_DIR" "$@" || status=$?
echo "cluster: done in ${SECONDS}s" >&2
exit $status
