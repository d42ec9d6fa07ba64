#!/usr/bin/env bash
#   The main job: builds Hearth and runs `hearth up` on the embedded default
#   mesh (a broker, the example experts and the pipeline 'opinions') until
#   Ctrl-C. Idempotent. Arguments go to `hearth up`, e.g. -c deploy/mesh.yml
#   or --bind 'tcp://127.0.0.1:*'.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh

build="${HEARTH_BUILD:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHEARTH_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

echo "hearth: starting the mesh; from another terminal try:" >&2
echo "  $build/client/cli/hearth call opinions '{\"text\": \"I love this\"}'" >&2
exec "$build/client/cli/hearth" up "$@"
