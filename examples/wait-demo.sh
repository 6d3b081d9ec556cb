#!/bin/sh
# A server that comes up 2 s from now, and `vitalcheck wait` holding a command back until
# it answers with {"status": "UP"}. Needs python3 (for the demo server only).
#
#   cargo build --release -p vitalcheck-cli && examples/wait-demo.sh
set -eu
port=${PORT:-18080}
vitalcheck=${VITALCHECK:-target/release/vitalcheck}
dir=$(mktemp -d)
printf '{"status": "UP"}\n' > "$dir/health.json"
(sleep 2 && cd "$dir" && exec python3 -m http.server "$port" --bind 127.0.0.1) >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM

# localhost is tried on ::1 and 127.0.0.1 both; the server listens on 127.0.0.1 only.
"$vitalcheck" wait -v --timeout 30s --expect-json '/status == "UP"' \
    "http://localhost:$port/health.json" -- echo "the server is up: starting the app"
"$vitalcheck" check "http://localhost:$port/health.json" "127.0.0.1:$port" --exec "test -d $dir"
