#!/bin/bash
# Instructions and allocations per pipelined 16 B websocket message, for one contender:
# callgrind (instructions) and dhat (allocated blocks) on two `measure` jobs of N1 and N2
# messages against the echo server; the difference divided by N2 - N1 leaves setup out.
# usage (from the repo root, after `cargo build --release -p actix-engineio-bench`):
#   bench/scripts/sendpath-profile.sh CONTENDER [N1 N2]
# CONTENDER as the jobs name it: actix-engineio, actix-engineio/AsyncClient,
# actix-engineio/Client, bare-awc, rust_engineio. Outputs go to $OUT (default /tmp).
set -u
BIN=${BIN:-target/release/actix-engineio-bench}
OUT=${OUT:-/tmp}
C="$1"; N1=${2:-2000}; N2=${3:-12000}
exec 3< <($BIN serve)
SPID=$!
read -r line <&3
PORT=$(echo "$line" | awk '{print $2}')
job() { echo "{\"scenario\":{\"name\":\"ws-pipe-16\",\"kind\":\"ws-pipe\",\"size\":16,\"count\":$1,\"sessions\":1,\"batch\":1},\"contender\":\"$C\",\"base\":\"http://127.0.0.1:$PORT\"}"; }
for N in $N1 $N2; do
  valgrind --tool=callgrind --callgrind-out-file=$OUT/cg.$N.out $BIN measure "$(job $N)" >/dev/null 2>$OUT/cg.$N.err
  IR[$N]=$(grep -h "Collected" $OUT/cg.$N.err | awk '{print $4}' | tr -d ,)
  valgrind --tool=dhat --dhat-out-file=$OUT/dh.$N.out $BIN measure "$(job $N)" >/dev/null 2>$OUT/dh.$N.err
  AL[$N]=$(grep -h "Total:" $OUT/dh.$N.err | sed 's/.*in \([0-9,]*\) blocks.*/\1/' | tr -d ,)
done
kill $SPID
echo "$C ir/msg=$(( (IR[$N2]-IR[$N1])/(N2-N1) )) allocs/msg=$(echo "scale=2; (${AL[$N2]}-${AL[$N1]})/($N2-$N1)" | bc)"
