#!/usr/bin/env bash
#   The main job on the embedded defaults: builds Hearth, starts a broker
#   and the example sentiment expert, sends it a document, prints the
#   document with the expert's opinion, and stops everything it started.
#   Idempotent. Pass a JSON document as $1 to send your own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh

build="${HEARTH_BUILD:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHEARTH_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

broker_bin="$build/broker/hearth-broker"
expert_bin="$build/workers/examples/hearth-expert-sentiment"
hearth="$build/client/cli/hearth"
document="${1:-{\"id\": 1, \"text\": \"I love how fast and reliable this is\"\}}"

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

#   A free port, read back from the broker's log rather than guessed.
"$broker_bin" --bind 'tcp://127.0.0.1:*' 2>"$work/broker.log" &
pids+=($!)
endpoint=""
for _ in $(seq 100); do
    endpoint="$(sed -n 's/.*listening on \(tcp:[^ ]*\).*/\1/p' "$work/broker.log" | head -n 1)"
    [ -n "$endpoint" ] && break
    sleep 0.1
done
[ -n "$endpoint" ] || { cat "$work/broker.log" >&2; echo "demo: broker did not start" >&2; exit 1; }
echo "demo: broker listening on $endpoint" >&2

"$expert_bin" --broker "$endpoint" 2>"$work/expert.log" &
pids+=($!)
for _ in $(seq 100); do
    "$hearth" -b "$endpoint" --timeout 1000 services sentiment >/dev/null 2>&1 && break
    sleep 0.1
done
"$hearth" -b "$endpoint" services >&2

echo "demo: calling sentiment with $document" >&2
"$hearth" -b "$endpoint" call sentiment "$document"
