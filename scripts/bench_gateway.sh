#!/usr/bin/env bash
# Load benchmark of the gateway: the mock upstream directly, then through `rampart serve` with the default
# policy, at concurrency 1, 8 and 64, with a 1 KB chat prompt. Prints wrk's p50/p99 latency and requests/s for
# each, the gateway's CPU time per request (from /proc, so independent of how the cores are shared), and the
# gateway's idle and loaded RSS. The gateway's added latency is the difference of the two rows at one concurrency.
#
#   scripts/bench_gateway.sh            # needs `wrk` (Debian package) and a release build
#   FRESH=1 scripts/bench_gateway.sh    # a new prompt each request: no clean-text cache hits
#
# Numbers from a shared 2-core machine are noisy: compare the two rows of one run, not runs across days.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
BIN=target/release/rampart
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
cargo build --release -q -p rampart
work="$(mktemp -d)"
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
pids=()
trap cleanup EXIT

mock=127.0.0.1:18901
gw=127.0.0.1:18902
"$BIN" mock-upstream --listen "$mock" >"$work/mock.log" 2>&1 & pids+=($!)
key="$("$BIN" keys create --role default --data-dir "$work/data" | grep -o 'rk-[A-Za-z0-9_-]*' | head -1)"
"$BIN" serve --listen "$gw" --upstream "http://$mock/v1" --data-dir "$work/data" --log-format json \
  >"$work/gw.log" 2>&1 & gwpid=$!; pids+=($gwpid)
for _ in $(seq 100); do curl -sf "http://$gw/healthz" >/dev/null 2>&1 && curl -sf "http://$mock/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done

# A 1 KB ordinary prompt (no findings), so the figure is the cost of scanning clean traffic.
python3 - "$work/body.json" <<'PY'
import json, sys
text = ("Our team shipped the new release last week and customers seem happy with it. "
        "Could you draft a short summary for the newsletter that mentions the faster search, "
        "the redesigned settings page and the improved offline mode? Keep it friendly. ") * 5
text = text[:1024]
json.dump({"model": "mock-echo", "messages": [{"role": "user", "content": text}]}, open(sys.argv[1], "w"))
PY
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
local f = io.open("$work/body.json", "r"); wrk.body = f:read("*a"); f:close()
LUA
# FRESH=1: every request carries a prompt never seen before (a per-thread tag and a counter replace the first
# words), so neither direction hits the gateway's cache of texts already scanned clean and each request pays for
# a full 1 KB scan of the prompt and of the echoed answer.
if [[ "${FRESH:-0}" == 1 ]]; then
  cat >>"$work/post.lua" <<'LUA'
local tag = string.format("%x", math.floor(os.clock() * 1e6) + tonumber(string.sub(tostring({}), 8), 16) % 1000003)
local n = 0
local prefix = "Our team shipped"
request = function()
  n = n + 1
  local body = string.gsub(wrk.body, prefix, "Ticket " .. tag .. "-" .. n .. " says", 1)
  return wrk.format(nil, nil, nil, body)
end
LUA
fi

rss() { awk '/VmRSS/ {print int($2/1024)" MB"}' "/proc/$1/status"; }
# CPU seconds (user + system) the gateway process has used so far, from /proc (clock ticks).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$gwpid/stat"; }
echo "gateway idle RSS: $(rss "$gwpid")"
run() { # name url connections
  local out before after
  before="$(cpu)"
  out="$(wrk -t "$(( $3 < 2 ? 1 : 2 ))" -c "$3" -d "$DURATION" --latency -s "$work/post.lua" "$2/v1/chat/completions")"
  after="$(cpu)"
  local p50 p99 rps non2xx reqs per
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  reqs="$(awk '/requests in/ {print $1}' <<<"$out")"
  non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  # Gateway CPU per request: independent of how wrk and the mock share the cores (0 for direct rows).
  per="$(awk -v a="$after" -v b="$before" -v n="$reqs" 'BEGIN { if (n > 0 && a > b) printf "%.0f us", (a - b) / n * 1e6; else print "-" }')"
  printf '| %-8s | %3s | %9s | %9s | %10s | %9s |%s\n' "$1" "$3" "$p50" "$p99" "$rps" "$per" "${non2xx:+ non-2xx: $non2xx}"
}
echo "| target   |   c |       p50 |       p99 |      req/s | gw CPU/req |"
echo "|---|---|---|---|---|---|"
for c in 1 8 64; do
  run direct "http://$mock" "$c"
  run gateway "http://$gw" "$c"
done
echo "gateway RSS after load: $(rss "$gwpid")"
