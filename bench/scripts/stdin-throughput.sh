#!/bin/bash
# `eio --stdin` lines echoed per second over websocket, beside the library pipelined
# (ws-pipe-16, the actor API `Session`) for the same message size, against one bench echo
# server; each measurement in its own process, rounds interleaved, medians and ranges.
# usage (from the repo root, after
#   cargo build --release --example eio && cargo build --release -p actix-engineio-bench):
#   bench/scripts/stdin-throughput.sh [LINES [ROUNDS [APIS]]]
# LINES (default 100000) lines of 16 B (16 digits, then a newline) go to
#   eio --api API --stdin --transports websocket --count LINES URL < file > file
# with stdin kept open until eio exits (at end of input eio closes at once, before the
# last echoes are back: `--count` is what ends the session here), timed from the
# process's start to its exit (connecting and closing included), and
# every echo is checked: the output must hold LINES `< …` lines. APIS default
# "actor async blocking"; EIO_ARGS adds options to eio (e.g. EIO_ARGS=--json). The library figure is the bench's `measure` job for
# ws-pipe-16 with LINES messages (its own timing: first send to last echo).
set -eu
BIN=${BIN:-target/release/actix-engineio-bench}
EIO=${EIO:-target/release/examples/eio}
N=${1:-100000}; ROUNDS=${2:-3}; APIS=${3:-actor async blocking}
TMP=$(mktemp -d)
exec 3< <($BIN serve)
SPID=$!
trap 'kill $SPID 2>/dev/null; rm -rf "$TMP"' EXIT
read -r line <&3
PORT=$(echo "$line" | awk '{print $2}')
URL=http://127.0.0.1:$PORT
mkfifo "$TMP/fifo"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%016d\n", i }' >"$TMP/in"
job="{\"scenario\":{\"name\":\"ws-pipe-16\",\"kind\":\"ws-pipe\",\"size\":16,\"count\":$N,\"sessions\":1,\"batch\":1},\"contender\":\"actix-engineio\",\"base\":\"$URL\"}"
median() { sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f (%.0f–%.0f)", m, a[1], a[NR] }'; }
echo "# $(date -u +%F) eio --stdin, $N lines of 16 B over websocket, $ROUNDS rounds (medians, range)"
echo "# cores $(nproc); load at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: EIO_ARGS=\"${EIO_ARGS:-}\" bench/scripts/stdin-throughput.sh $N $ROUNDS \"$APIS\""
for r in $(seq "$ROUNDS"); do
  $BIN measure "$job" | sed 's/.*"rate":\([0-9.e+]*\).*/\1/' >>"$TMP/lib"
  for api in $APIS; do
    start=$(date +%s.%N)
    $EIO --api "$api" ${EIO_ARGS:-} --stdin --transports websocket --count "$N" "$URL" <"$TMP/fifo" >"$TMP/out" &
    epid=$!
    exec 4>"$TMP/fifo"
    cat "$TMP/in" >&4
    wait $epid
    end=$(date +%s.%N)
    exec 4>&-
    got=$(grep -c '^< \|"event":"message"' "$TMP/out" || true)
    if [ "$got" != "$N" ]; then echo "eio --api $api: $got echoes of $N" >&2; exit 1; fi
    echo "$N / ($end - $start)" | bc -l >>"$TMP/$api"
  done
done
lib=$(median <"$TMP/lib")
libm=${lib%% *}
echo "library pipelined (ws-pipe-16, actor API)  msgs/s  $lib"
for api in $APIS; do
  e=$(median <"$TMP/$api")
  echo "eio --api $api --stdin  lines echoed/s  $e  ÷ library $(echo "scale=2; ${e%% *} / $libm" | bc)"
done
echo "# load at end $(cut -d' ' -f1-3 /proc/loadavg)"
