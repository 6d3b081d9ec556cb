#!/bin/sh
# `vitalcheck run` watching a local web server that goes away and comes back, then
# `vitalcheck status` and `vitalcheck history` reading what it stored. Needs python3
# (for the demo server only). Takes about 15 s.
#
#   cargo build --release -p vitalcheck-cli && examples/run-demo.sh
set -eu
vitalcheck=${VITALCHECK:-target/release/vitalcheck}
config=$(dirname "$0")/demo.toml
DEMO_PORT=${PORT:-18081}
DEMO_DIR=$(mktemp -d)
export DEMO_PORT DEMO_DIR
serve() { (cd "$DEMO_DIR" && exec python3 -m http.server "$DEMO_PORT" --bind 127.0.0.1) >/dev/null 2>&1 & server=$!; }
server=
run=
trap 'kill $server $run 2>/dev/null || true; rm -rf "$DEMO_DIR"' EXIT INT TERM

serve
"$vitalcheck" run -c "$config" & run=$!
sleep 4
echo "--- stopping the web server"
kill $server; wait $server 2>/dev/null || true
sleep 4
"$vitalcheck" status -c "$config" || true
echo "--- starting it again"
serve
sleep 4
"$vitalcheck" status -c "$config" || true
"$vitalcheck" history site -c "$config" --since 1m | tail -n 12
kill -TERM $run; wait $run
