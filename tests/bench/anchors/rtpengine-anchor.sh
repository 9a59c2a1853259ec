#!/bin/bash
# rtpengine-anchor.sh - media relay (RTP forwarding) performance anchor:
# Debian's rtpengine-daemon (10.5) in pure userspace forwarding mode (--table=-1, no
# kernel module), driven over the ng control protocol, loaded by rtpblast.c.
#
# Everything is on loopback: rtpengine ng control on udp 127.0.0.1:22222, media ports
# PORT_MIN-PORT_MAX on 127.0.0.1; the generator's endpoints are 127.x.y.z (MODE=shared,
# one socket per side bound to port 9000/9002 with SO_BINDTODEVICE lo) or 127.0.0.1
# ports 10000+i / 15000+i (MODE=percall, one socket per endpoint).
# Runtime files (binary, logs, call maps, raw RESULT lines) go to $WORK (/tmp/rtpe-bench).
#
# Phases (each: start rtpengine --num-threads=T, create N calls = offer+answer, wait 3 s
# for rtpengine's endpoint learning, run the rate ladder, print rtpengine's own counters,
# stop rtpengine):
#   PHASES="T:N:rate,rate,... ..."   default: 2 threads 500 calls, 2 threads 2000 calls,
#                                    1 thread 2000 calls, 4 threads 2000 calls
# Rates are total packets/s over all 2*N streams (50 pps per direction per call = real
# G.711/20 ms, i.e. 100*N pps). A ladder stops after MAX_FAILS (2) consecutive non-PASS steps.
#
# Step verdict: PASS  loss < LOSS_MAX_PCT (0.5) and sent >= 98 % of asked and the median
#                     one-way latency < LAT_P50_MAX_US (5000): the relay keeps up.
#               QUEUE loss < 0.5 % but median latency above the bound: the box is saturated,
#                     the backlog grows inside socket buffers (it would turn into loss in a
#                     longer step).
#               FAIL  otherwise.
# CPU: relay% = utime+stime of rtpengine (/proc/PID/stat) over the window, % of one core
# (machine max 200); gen% = the generator (getrusage); busy% = whole machine (/proc/stat);
# relay_us = rtpengine CPU microseconds per forwarded packet.
#
# Knobs (env): PHASES, STEP_SECS (5), WARM_SECS (2), MODE (shared|percall), GEN_NICE (-15:
#   the generator gets CPU first so that the relay, not the generator, shows the overload),
#   PORT_MIN (30000) PORT_MAX (40000, raised automatically to fit 4 ports per call),
#   NG (127.0.0.1:22222), LOSS_MAX_PCT (0.5), LAT_P50_MAX_US (5000), PAUSE_SECS (1),
#   DEADLINE_S (270), MAX_FAILS (2), WORK (/tmp/rtpe-bench), RTPBLAST (a built rtpblast;
#   default: compile rtpblast.c into WORK). ANCHOR_CAPPED=1 lifts the 295 s hard cap
#   (e.g. STEP_SECS=10 DEADLINE_S=2000 for long steps).
#   SUT_PID=<pid> [NG=ip:port]: do not start rtpengine; drive an already running relay that
#     speaks the ng protocol (offer/answer/delete) on NG, measure that PID; the thread
#     count in PHASES is then only a label. (A relay with another control plane can write
#     the call map itself, see rtpe-ng.py, and run rtpblast directly.)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/tmp/rtpe-bench}
SUT_PID=${SUT_PID:-}

log() { echo "[$(date +%T)] $*" >&2; }

# ---------------------------------------------------------------- install check
need=""
[ -z "$SUT_PID" ] && { command -v rtpengine >/dev/null || need="$need rtpengine-daemon"; }
[ -x "${RTPBLAST:-}" ] || { command -v gcc >/dev/null || need="$need gcc libc6-dev"; }
command -v python3 >/dev/null || need="$need python3"
if [ -n "$need" ]; then
  log "installing:$need"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; } \
    || { log "install failed"; exit 1; }
fi
# hard cap on everything that follows
if [ -z "${ANCHOR_CAPPED:-}" ]; then
  ANCHOR_CAPPED=1 exec timeout -k 5 295 "$0" "$@"
fi

PHASES=${PHASES:-"2:500:50000,100000,120000,130000,140000,150000,160000 2:2000:50000,100000,110000,120000,130000,140000 1:2000:50000,80000,100000,110000,120000 4:2000:50000,100000,110000,120000,130000,140000"}
STEP_SECS=${STEP_SECS:-5}
WARM_SECS=${WARM_SECS:-2}
MODE=${MODE:-shared}
GEN_NICE=${GEN_NICE:--15}
PORT_MIN=${PORT_MIN:-30000}
PORT_MAX=${PORT_MAX:-40000}
NG=${NG:-127.0.0.1:22222}
LOSS_MAX_PCT=${LOSS_MAX_PCT:-0.5}
LAT_P50_MAX_US=${LAT_P50_MAX_US:-5000}
PAUSE_SECS=${PAUSE_SECS:-1}
DEADLINE_S=${DEADLINE_S:-270}
MAX_FAILS=${MAX_FAILS:-2}
T_START=$(date +%s)

# rtpengine needs 4 sockets per call (RTP+RTCP per side), MODE=percall 2 per call in rtpblast
ulimit -n "$(ulimit -Hn)" 2>/dev/null
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1
RAW=$WORK/results.raw
: > "$RAW"

# RTPBLAST: a built rtpblast (the project's `make` builds tests/bench/rtpblast);
# otherwise it is compiled here from rtpblast.c
if [ -x "${RTPBLAST:-}" ]; then
  BLAST=$RTPBLAST
else
  BLAST=$WORK/rtpblast
  gcc -O2 -Wall -o "$BLAST" "$HERE/rtpblast.c" || { log "rtpblast build failed"; exit 1; }
fi
NGC="python3 $HERE/rtpe-ng.py --ng $NG"

RTPE_PID=""
cleanup() {
  if [ -n "$RTPE_PID" ] && kill -0 "$RTPE_PID" 2>/dev/null; then
    kill "$RTPE_PID" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$RTPE_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$RTPE_PID" 2>/dev/null
  fi
  RTPE_PID=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_rtpe() { # $1 threads $2 calls
  local thr=$1 calls=$2 pmax=$PORT_MAX
  local needp=$((PORT_MIN + 4 * calls + 1000))
  [ "$pmax" -lt "$needp" ] && pmax=$needp
  rm -f "$WORK/rtpe.pid"
  # --config-file=none: ignore /etc/rtpengine/rtpengine.conf (it sets table=0)
  # --table=-1: no kernel forwarding table, pure userspace
  timeout -k 5 600 rtpengine --config-file=none --table=-1 --foreground --log-stderr --log-level=4 \
    --interface=127.0.0.1 --listen-ng="$NG" --port-min="$PORT_MIN" --port-max="$pmax" \
    --num-threads="$thr" --delete-delay=0 --timeout=120 --pidfile="$WORK/rtpe.pid" \
    > "$WORK/rtpengine-t$thr-n$calls.log" 2>&1 &
  local tpid=$!
  RTPE_LOG=$WORK/rtpengine-t$thr-n$calls.log
  for _ in $(seq 50); do
    [ -s "$WORK/rtpe.pid" ] && $NGC ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  RTPE_PID=$(cat "$WORK/rtpe.pid" 2>/dev/null)
  if [ -z "$RTPE_PID" ] || ! kill -0 "$RTPE_PID" 2>/dev/null; then
    log "rtpengine did not start (see $WORK/rtpengine-t$thr-n$calls.log)"; kill "$tpid" 2>/dev/null; return 1
  fi
  # ports of the relay's sockets must fit the fd limit: 4 per call
  return 0
}

# rtpengine's userspace overload guard (media_socket.c, MAX_RECV_ITERS 50 /
# MAX_RECV_LOOP_STRIKES 5): a socket found with > 50 queued packets gets a strike, after
# 5 strikes rtpengine stops reading it for good ("discarding packet"). Count those log lines.
RTPE_LOG=/dev/null
strikes() { grep -c 'Too many packets in UDP receive queue' "$RTPE_LOG" 2>/dev/null || true; }

fmt_hdr() {
  printf "%-3s %5s %7s %7s %7s %6s %6s %5s %5s %8s %7s %7s %7s %7s %6s %7s %5s %s\n" \
    thr calls asked sent fwd loss% relay% gen% busy% relay_us gen_us p50_us p99_us max_us reord rdrop strk verdict
}
fmt_row() { # $1 threads, rest: RESULT line
  local thr=$1; shift
  echo "$*" | awk -v thr="$thr" -v lmax="$LOSS_MAX_PCT" -v p50max="$LAT_P50_MAX_US" '
    /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] }
      verdict = "FAIL"
      if (v["loss_pct"] + 0 < lmax && v["sent_pps"] + 0 >= 0.98 * v["asked_pps"]) {
        verdict = (v["lat_p50_us"] + 0 < p50max) ? "PASS" : "QUEUE" }
      printf "%-3s %5s %7s %7s %7s %6.2f %6s %5s %5s %8s %7s %7s %7s %7s %6s %7s %5s %s\n",
        thr, v["calls"], v["asked_pps"], v["sent_pps"], v["fwd_pps"], v["loss_pct"], v["relay_cpu_pct"],
        v["gen_cpu_pct"], v["sys_busy_pct"], v["relay_us_per_pkt"], v["gen_us_per_pkt"],
        v["lat_p50_us"], v["lat_p99_us"], v["lat_max_us"], v["reord"], v["relay_sock_drops"], v["strikes"], verdict }'
}

RTPE_VER=$(rtpengine --version 2>&1 | sed -n 's/^Version: *//p')
[ -n "$SUT_PID" ] && RTPE_VER="SUT pid $SUT_PID"
TABLE=$WORK/table.txt
{
  echo "== RTP relay anchor: rtpengine $RTPE_VER, userspace only (--table=-1), $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
  echo "   mode=$MODE gen_nice=$GEN_NICE step=${STEP_SECS}s warm=${WARM_SECS}s; RTP 12+160 B PCMU; rates = total pps over 2 streams/call (real G.711 = 100 pps/call)"
  echo "   relay%/gen%/busy% = % of one core over the window (machine max 200); relay_us/gen_us = CPU us per forwarded packet;"
  echo "   p50/p99/max = one-way latency through the relay incl. <= 0.5 ms generator polling tick; reord = packets behind"
  echo "   their stream's highest seq; rdrop = kernel drops on the relay's sockets (whole step incl. warm-up);"
  echo "   strk = rtpengine 'more than 50 packets in UDP receive queue' log lines in the step (rate-limited, ~1 per socket; 5 strikes = socket discarded for good)"
  fmt_hdr
} | tee "$TABLE"

declare -A BEST BESTQ
for ph in $PHASES; do
  IFS=: read -r thr calls rates <<< "$ph"
  if [ $(( $(date +%s) - T_START )) -ge "$DEADLINE_S" ]; then log "deadline reached, skipping phase $ph"; continue; fi
  if [ -z "$SUT_PID" ]; then
    start_rtpe "$thr" "$calls" || continue
    pid=$RTPE_PID
  else
    pid=$SUT_PID
  fi
  log "phase threads=$thr calls=$calls relay pid=$pid"
  prefix="t${thr}n${calls}p$$"
  if ! $NGC create --calls "$calls" --map "$WORK/calls-$prefix.map" --mode "$MODE" --prefix "$prefix" 2>&1 | sed 's/^/   /' >&2 \
     || [ ! -s "$WORK/calls-$prefix.map" ]; then
    log "call setup failed"; [ -z "$SUT_PID" ] && cleanup; continue
  fi
  sleep 3   # rtpengine's default endpoint learning waits 3 s after signalling
  fails=0; broken=0; brokenq=0
  for r in ${rates//,/ }; do
    if [ $(( $(date +%s) - T_START )) -ge "$DEADLINE_S" ]; then log "deadline reached"; break; fi
    strk0=$(strikes)
    res=$(nice -n "$GEN_NICE" "$BLAST" -m "$WORK/calls-$prefix.map" -r "$r" -d "$STEP_SECS" -w "$WARM_SECS" \
            -p "$pid" -l "t${thr}" 2>>"$WORK/rtpblast.err" | grep '^RESULT')
    if [ -z "$res" ]; then log "rtpblast failed (see $WORK/rtpblast.err)"; break; fi
    strk=$(( $(strikes) - strk0 ))
    [ -n "$SUT_PID" ] && strk=-
    echo "threads=$thr $res strikes=$strk" >> "$RAW"
    row=$(fmt_row "$thr" "$res strikes=$strk")
    echo "$row" | tee -a "$TABLE"
    verdict=${row##* }
    fwd=$(echo "$res" | sed 's/.* fwd_pps=\([0-9]*\).*/\1/')
    key="$thr:$calls"
    # the maxima only count the unbroken run of steps from the bottom of the ladder
    if [ "$verdict" = PASS ]; then
      fails=0
      [ "$broken" = 0 ] && [ "${BEST[$key]:-0}" -lt "$fwd" ] && BEST[$key]=$fwd
    else
      fails=$((fails + 1)); broken=1
    fi
    [ "$verdict" = FAIL ] && brokenq=1
    [ "$brokenq" = 0 ] && [ "${BESTQ[$key]:-0}" -lt "$fwd" ] && BESTQ[$key]=$fwd
    [ "$fails" -ge "$MAX_FAILS" ] && break
    sleep "$PAUSE_SECS"
  done
  echo "   rtpengine counters: $($NGC summary 2>/dev/null) discard_log_lines=$(grep -c 'receive queue exceeded' "$RTPE_LOG" 2>/dev/null)" | tee -a "$TABLE"
  $NGC delete --calls "$calls" --prefix "$prefix" >/dev/null 2>&1
  rm -f "$WORK/calls-$prefix.map"
  [ -z "$SUT_PID" ] && cleanup
done

{
  echo
  echo "max forwarded pps, all steps up to it PASS (loss < $LOSS_MAX_PCT %, median latency < $((LAT_P50_MAX_US / 1000)) ms);"
  echo "in brackets: loss criterion only (all steps up to it PASS or QUEUE):"
  for ph in $PHASES; do
    IFS=: read -r thr calls _ <<< "$ph"
    printf "   threads=%s calls=%-5s %7s pps   [%s pps]\n" "$thr" "$calls" "${BEST[$thr:$calls]:-none}" "${BESTQ[$thr:$calls]:-none}"
  done
  awk '/^threads=/ { for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] }
         if (v["loss_pct"] + 0 < 0.5 && v["lat_p50_us"] + 0 < 5000) { n++; s += v["relay_us_per_pkt"]; g += v["gen_us_per_pkt"];
           if (!n1 || v["relay_us_per_pkt"] < mn) mn = v["relay_us_per_pkt"]; if (v["relay_us_per_pkt"] > mx) mx = v["relay_us_per_pkt"]; n1 = 1 } }
       END { if (n) printf "relay CPU per forwarded packet over %d PASS steps: mean %.2f us (min %.2f, max %.2f) = %.1f CPU-s per 1M packets; generator mean %.2f us\n", n, s / n, mn, mx, s / n, g / n }' "$RAW"
  echo "(total wall time $(( $(date +%s) - T_START )) s; raw RESULT lines in $RAW, logs in $WORK)"
} | tee -a "$TABLE"
