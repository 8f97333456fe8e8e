#!/usr/bin/env bash
# Live fan-out across hub processes: 500 agents and 20 supervisors spread over three hubs on one
# PostgreSQL and one Redis, webhooks posted to the first, frames read on all three; then the
# same load on one hub alone, in the same run.
#   bench/cluster-latency.sh [dir with switchboard and loadgen, default target/release]
# Settings: RATE (200), SECONDS_PER_RUN (10), PG (postgres://postgres@127.0.0.1:5432),
# REDIS_URL (redis://127.0.0.1:6379). Creates and drops the databases sb_bench_one and
# sb_bench_three.
set -euo pipefail
BIN="${1:-target/release}"
RATE="${RATE:-200}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
LOGS="$(mktemp -d)"
PIDS=()

stop_hubs() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap stop_hubs EXIT

fresh_db() {
  psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}

# hub PORT DATABASE [REDIS_URL]
hub() {
  local data
  data="$(mktemp -d)"
  env ADMIN_PASSWORD=bench-password-123 META_APP_SECRET=bench-secret \
    JWT_SECRET=bench-jwt-secret-bench-jwt-secret-0123 \
    LOGIN_LIMIT_PER_IP=100000000/1 LOGIN_LIMIT_PER_EMAIL=100000000/1 RUST_LOG=warn \
    DATABASE_URL="$PG/$2" BIND_ADDR="127.0.0.1:$1" DATA_DIR="$data" ${3:+REDIS_URL=$3} \
    "$BIN/switchboard" serve >"$LOGS/hub-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$1/api/health" >/dev/null && return
    sleep 0.2
  done
  echo "the hub on port $1 did not start; its log: $LOGS/hub-$1.log" >&2
  exit 1
}

# load DELIVERIES_TO [extra loadgen fanout flags]
load() {
  "$BIN/loadgen" --base-url "$1" fanout --email admin@example.com \
    --password bench-password-123 --app-secret bench-secret --agents 500 --supervisors 20 \
    --rates "$RATE" --seconds "$SECONDS_PER_RUN" "${@:2}"
}

echo "== three processes through Redis: deliveries to :18811, sockets spread over all three"
fresh_db sb_bench_three
hub 18811 sb_bench_three "$REDIS_URL"
hub 18812 sb_bench_three "$REDIS_URL"
hub 18813 sb_bench_three "$REDIS_URL"
load http://127.0.0.1:18811 \
  --ws-urls http://127.0.0.1:18811,http://127.0.0.1:18812,http://127.0.0.1:18813
stop_hubs

echo "== one process, same load"
fresh_db sb_bench_one
hub 18801 sb_bench_one
load http://127.0.0.1:18801
stop_hubs

psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS sb_bench_one" \
  -c "DROP DATABASE IF EXISTS sb_bench_three"
