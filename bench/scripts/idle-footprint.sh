#!/bin/bash
# The heap of one idle websocket session, by component: dhat (valgrind) on two `measure`
# jobs of the idle scenario with N1 and N2 sessions (opened BATCH at a time), the live
# bytes and blocks of each allocation site at the heap's peak (t-gmax, once every session
# is open), the difference divided by N2 - N1, so the runtime, the HTTP client and the warm
# session are left out. Each allocation site is put in one component by its call stack.
# usage (from the repo root): bench/scripts/idle-footprint.sh [CONTENDER...] [-- N1 N2]
# CONTENDER as the jobs name it (default: actix-engineio bare-awc). It builds the benchmark
# with line tables for the library, the benchmark and actix (so that inlined frames name
# their function; debug info is not loaded, RSS figures are the same), and keeps the dhat
# files in $OUT (default /tmp/idle-footprint). Heap bytes are not RSS: a block's untouched
# pages are not resident (most of the socket's two 8 KiB buffers), and malloc adds about
# 8 to 16 bytes to every block (hence the block count).
set -eu
CONTENDERS=()
N1=500; N2=1500; BATCH=${BATCH:-10}
while [ $# -gt 0 ]; do
  case "$1" in
    --) N1=$2; N2=$3; break ;;
    *) CONTENDERS+=("$1"); shift ;;
  esac
done
[ ${#CONTENDERS[@]} -gt 0 ] || CONTENDERS=(actix-engineio bare-awc)
OUT=${OUT:-/tmp/idle-footprint}
mkdir -p "$OUT"
LT='debug="line-tables-only"'
cargo build --release -p actix-engineio-bench \
  --config "profile.release.package.actix-engineio.$LT" \
  --config "profile.release.package.actix-engineio-bench.$LT" \
  --config "profile.release.package.actix.$LT" >&2
BIN=target/release/actix-engineio-bench
exec 3< <($BIN serve)
SPID=$!
trap 'kill $SPID 2>/dev/null' EXIT
read -r line <&3
PORT=$(echo "$line" | awk '{print $2}')
job() { echo "{\"scenario\":{\"name\":\"idle\",\"kind\":\"idle\",\"size\":16,\"count\":0,\"sessions\":$2,\"batch\":$BATCH},\"contender\":\"$1\",\"base\":\"http://127.0.0.1:$PORT\"}"; }
FILES=()
for C in "${CONTENDERS[@]}"; do
  F=$(echo "$C" | tr '/' '_')
  for N in $N1 $N2; do
    valgrind --tool=dhat --num-callers=40 --dhat-out-file="$OUT/$F.$N" $BIN measure "$(job "$C" "$N")" \
      >"$OUT/$F.$N.stdout" 2>"$OUT/$F.$N.err" || { echo "$C $N failed: see $OUT/$F.$N.err" >&2; exit 1; }
  done
  FILES+=("$C=$OUT/$F.$N1,$OUT/$F.$N2")
done
python3 - "$((N2 - N1))" "${FILES[@]}" <<'EOF'
import collections, json, re, sys

# First match wins. A task is the spawn of an actor's (or the reader's) future: its state,
# context and mailbox receiver, in one block.
def task(actor):
    return lambda head, stack: re.search(r"task/list\.rs[^\n]*\n[^\n]*ContextFut<" + actor, head)

def has(pattern, frames=4):
    """In the first `frames` frames of the site (allocator frames left out)."""
    return lambda head, stack: re.search(pattern, "\n".join(head.split("\n")[:frames]))

def harness(head, stack):
    frames = head.split("\n")
    return (re.search(r"ours::Forward|ours::Event", "\n".join(frames[:3]))
            or re.search(r"::open_many", frames[0])
            or not re.search(LIBRARY, stack))

LIBRARY = r"actix_engineio::|awc::|actix_http|tokio::net|task/list\.rs"
RULES = [
    ("socket: read buffer (awc `Framed`)", has(r"framed\.rs:58\)")),
    ("socket: write buffer (awc `Framed`)", has(r"framed\.rs:59\)")),
    ("Session actor: task (state, context, mailbox)", task("actix_engineio::session::Session")),
    ("WebSocketTransport actor: task (state, context, mailbox)", task("actix_engineio::transport::websocket::WebSocketTransport")),
    ("Heartbeat actor: task (state, context, mailbox)", task("actix_engineio::heartbeat::Heartbeat")),
    ("reader task (bare awc)", has(r"task/list\.rs(?s:.*)bare::")),
    ("harness: the subscriber actor and its channel (ours), the list of sessions", harness),
    ("timers (heartbeat deadline)", has(r"TimerFunc|cancel_future|run_later")),
    ("mailbox channels, addresses, recipients", has(r"actix::address|address/channel|address/queue|mailbox\.rs", 2)),
    ("settings (`ClientConfig`)", has(r"ClientConfig|config::parse|opening\.rs")),
    ("HTTP state and URLs (`Http`, endpoint)", has(r"transport::http::Http|Endpoint|url::")),
    ("WebSocketTransport state (sink, write queue, gate, split socket)", has(r"transport::websocket")),
    ("socket: connection, I/O registration, response head", has(r"registration_set|awc::|actix_http|h1proto|http::uri|tokio::net|actix_tls")),
    ("Session state (queue, outlet, subscribers, state machine)", has(r"actix_engineio::(session|protocol|builder|event)|Handshake|serde_json", 8)),
    ("other", lambda head, stack: True),
]

def load(path):
    d = json.load(open(path))
    ft = d["ftbl"]
    sites = collections.defaultdict(lambda: [0, 0])
    for pp in d["pps"]:
        stack = "\n".join(re.sub(r"^0x[0-9A-F]+: ", "", ft[i]) for i in pp["fs"])
        sites[stack][0] += pp["gb"]
        sites[stack][1] += pp["gbk"]
    return sites

ALLOCATOR = re.compile(r"^(UnknownInlinedFun|memalign|posix_memalign|aligned_malloc|malloc|calloc|realloc|"
                       r"alloc[_ ]|allocate|box_new|new_uninit|grow_|finish_grow|do_reserve|try_allocate|"
                       r"with_capacity|reserve|__rust|__rdl|alloc::|<alloc::|new<alloc::)")

def component(stack):
    head = "\n".join(f for f in stack.split("\n") if not ALLOCATOR.search(f))
    for name, matches in RULES:
        if matches(head, stack):
            return name

n = float(sys.argv[1])
columns = []
for arg in sys.argv[2:]:
    name, files = arg.split("=", 1)
    a, b = (load(f) for f in files.split(","))
    per = collections.defaultdict(lambda: [0.0, 0.0])
    for stack in set(a) | set(b):
        c = per[component(stack)]
        c[0] += (b[stack][0] - a[stack][0]) / n
        c[1] += (b[stack][1] - a[stack][1]) / n
    columns.append((name, per))
print("| component | " + " | ".join(f"{name}: bytes (blocks)" for name, _ in columns) + " |")
print("|---|" + "---:|" * len(columns))
for rule, _ in RULES:
    cells = [per.get(rule) for _, per in columns]
    if all(c is None or (abs(c[0]) < 0.5 and abs(c[1]) < 0.05) for c in cells):
        continue
    print(f"| {rule} | " + " | ".join("–" if c is None or abs(c[0]) < 0.5 and abs(c[1]) < 0.05 else f"{c[0]:,.0f} ({c[1]:.1f})" for c in cells) + " |")
totals = [(sum(v[0] for v in per.values()), sum(v[1] for v in per.values())) for _, per in columns]
print("| **total heap per session** | " + " | ".join(f"**{t[0]:,.0f} ({t[1]:.1f})**" for t in totals) + " |")
EOF
