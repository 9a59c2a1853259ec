# tests/sipp/lib.sh: run the real pinholed on free loopback ports and drive
# it with SIPp. Sourced by the tests in this folder. Everything is bounded:
# start-up waits at most 5 s, each SIPp run at most 20 s, and the trap
# stops pinholed and removes the work folder whatever happens. A test fails
# when pinholed died under it or its log has a sanitizer report (builds
# configured with --enable-sanitizers; leaks at exit are not checked here).
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
SIPP_DIR=$top_srcdir/tests/sipp
PINHOLED=$top_builddir/registrar/pinholed
SIPCHECK=$top_builddir/tests/sipp/sipcheck
SENDCAP=$top_builddir/tests/sipp/.libs/sendcap.so
SIPCHECK_ARGS=	# -e in a test in which pinholed sends no SIP at all
PH_PID=
PH_PIDS=	# every pinholed started: the cleanup stops those still running
PH_RUNS=0
WORK=

# A test that cannot run skips (exit 77), saying why; with PH_REQUIRE_ALL=1
# (.ci/run sets it) it fails instead.
skip() {
	if [ "${PH_REQUIRE_ALL:-0}" != 0 ]; then
		echo "FAIL: cannot run, and PH_REQUIRE_ALL is set: $*"; exit 1
	fi
	echo "SKIP: $*"; exit 77
}
fail() { echo "FAIL: $*"; [ -n "$WORK" ] && [ -f "$WORK/pinholed.log" ] && sed 's/^/  pinholed: /' "$WORK/pinholed.log" | tail -40; exit 1; }

command -v sipp >/dev/null 2>&1 || skip "sipp not installed (Debian package sip-tester)"
[ -x "$PINHOLED" ] || fail "$PINHOLED not built"
[ -x "$SIPCHECK" ] || fail "$SIPCHECK not built (make check builds it)"
[ -f "$SENDCAP" ] || fail "$SENDCAP not built (make check builds it)"
# absolute: LD_PRELOAD is read wherever pinholed's libtool wrapper runs it
SENDCAP=$(cd "$(dirname "$SENDCAP")" && pwd)/sendcap.so
# made once the test can run, so that a skip leaves nothing behind
WORK=$(mktemp -d /tmp/ph-sipp.XXXXXX)

# A sanitizer finding stops pinholed (abort_on_error, halt_on_error) and
# its report goes to the log.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# pid_alive PID: runs (a zombie, dead and not yet waited for, does not)
pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] &&
		! sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'
}

# ph_alive: the last pinholed started runs
ph_alive() { pid_alive "$PH_PID"; }

# ph_log_clean: 1 (with the report) when pinholed's log has a sanitizer report
ph_log_clean() {
	[ -f "$WORK/pinholed.log" ] || return 0
	grep -Eq 'runtime error:|AddressSanitizer' "$WORK/pinholed.log" || return 0
	echo "FAIL: sanitizer report in pinholed's log:"
	grep -Em1 -A40 'runtime error:|AddressSanitizer' "$WORK/pinholed.log" | sed 's/^/  pinholed: /'
	return 1
}

ph_cleanup() {
	st=$?
	if [ -n "$PH_PID" ]; then
		if ! ph_alive; then
			echo "FAIL: pinholed (pid $PH_PID) died during the test"
			tail -40 "$WORK/pinholed.log" 2>/dev/null | sed 's/^/  pinholed: /'
			st=1
		fi
	fi
	# the last one, and any earlier one the test left running
	for p in $PH_PIDS; do
		kill "$p" 2>/dev/null || continue
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			pid_alive "$p" || break; sleep 0.2
		done
		kill -9 "$p" 2>/dev/null
	done
	ph_log_clean || st=1
	# a test passes only if all pinholed sent reads right (sipcheck)
	[ "$st" = 0 ] && ! sip_check "$WORK"/sent-*.cap && st=1
	rm -rf "$WORK"
	ports_unlock
	trap - EXIT
	exit "$st"
}
trap ph_cleanup EXIT
trap 'exit 130' INT TERM

# sip_check FILE...: every message pinholed sent, as sendcap recorded them
# (tests/sipp/sendcap.c), read by libosip2 and sofia-sip alike
# (tests/sipp/sipcheck.c); says what differs and returns 1 otherwise. Other
# tests may run their own pinholed with LD_PRELOAD=.../sendcap.so
# SENDCAP_FILE=FILE and call it, or run tests/sipp/sipcheck [-e] FILE
# directly (-e: a file with no message passes).
sip_check() {
	[ -e "$1" ] || { echo "FAIL: sipcheck: no sendcap file in $WORK"; return 1; }
	"$SIPCHECK" $SIPCHECK_ARGS "$@" >"$WORK/sipcheck.out" 2>&1 && { tail -1 "$WORK/sipcheck.out"; return 0; }
	cat "$WORK/sipcheck.out"
	echo "FAIL: what pinholed sent does not read right (above)"
	return 1
}

# port_free PORT: nothing listens on it (UDP or TCP) on this host.
port_free() {
	! ss -Hlnu "sport = :$1" 2>/dev/null | grep -q . &&
	! ss -Hlnt "sport = :$1" 2>/dev/null | grep -q .
}

# free_base N (N <= 40): a random port with N free ports from it on, in
# 10000-21999: below the kernel's ephemeral range (32768-60999), where a
# client socket of any test (a TCP connect, a resolver) could take it
# between our check and pinholed's bind, and below the relay ports
# (22000-23999 here). Held for this test until it ends (a lock under
# PH_LOCKS, ph_cleanup drops it): a test that restarts its pinholed on its
# port leaves it free meanwhile, and a parallel test must not take it
# then (both would bind it, SO_REUSEADDR, and hear each other's traffic).
PH_LOCKS=${TMPDIR:-/tmp}/ph-portlocks
ports_unlock() { # what free_base took for this test
	for l in "$PH_LOCKS"/*; do
		[ "$(cat "$l/pid" 2>/dev/null)" = "$$" ] && rm -rf "$l"
	done
}
free_base() {
	mkdir -p "$PH_LOCKS" 2>/dev/null
	for _ in $(seq 1 100); do
		b=$(( (($(od -An -N2 -tu2 /dev/urandom) % 300) * 40) + 10000 ))
		l=$PH_LOCKS/$b
		if ! mkdir "$l" 2>/dev/null; then
			# held, or being taken, by a live test: another one
			o=$(cat "$l/pid" 2>/dev/null)
			{ [ -n "$o" ] && ! kill -0 "$o" 2>/dev/null; } || continue
		fi
		echo $$ >"$l/pid"
		ok=1
		for i in $(seq 0 $(($1 - 1))); do port_free $((b + i)) || { ok=0; break; }; done
		[ "$ok" = 1 ] && { echo "$b"; return 0; }
		rm -rf "$l"
	done
	return 1
}

# ph_start [-o KEY=VALUE]...: start pinholed; sets SIP_PORT, STUN_PORT, PH_IP.
ph_start() {
	PH_IP=${PH_IP:-127.0.0.1}
	PH_PID=
	# the pinholed before this one, if any
	ph_log_clean || { rm -f "$WORK/pinholed.log"; exit 1; }
	base=$(free_base 12) || fail "no free ports"
	SIP_PORT=$base
	STUN_PORT=$((base + 2))
	# sendcap.so writes every byte pinholed sends there (not sofia-sip's
	# TPORT_DUMP: that leaves out most bodies); one file per pinholed, since
	# a test may run two at once. An ASan pinholed (--enable-sanitizers)
	# refuses a library preloaded before its runtime unless told not to
	# check the order: sendcap.so hands each send on to ASan's own wrapper.
	PH_RUNS=$((PH_RUNS + 1))
	# relay ports above free_base's range; parallel tests share them (a
	# port in use is skipped). The default store (file), in the work
	# folder: one file per pinholed, none shared between tests.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	LD_PRELOAD=$SENDCAP${LD_PRELOAD:+:$LD_PRELOAD} \
	SENDCAP_FILE=$WORK/sent-$PH_RUNS.cap \
	"$PINHOLED" -f -o "listen=$PH_IP" -o "sip_port=$SIP_PORT" \
		-o "stun_port=$STUN_PORT" -o relay_ports=22000-23999 \
		-o "store_path=$WORK/bindings-$PH_RUNS.db" -o log_level=debug "$@" \
		>"$WORK/pinholed.log" 2>&1 &
	PH_PID=$!
	PH_PIDS="$PH_PIDS $PH_PID"
	for _ in $(seq 1 50); do
		grep -q ' ready: ' "$WORK/pinholed.log" 2>/dev/null && return 0
		kill -0 "$PH_PID" 2>/dev/null || fail "pinholed exited at start"
		sleep 0.1
	done
	fail "pinholed not ready within 5 s"
}

# ph_wait_log SECONDS PATTERN: until pinholed's log has a line matching
# PATTERN (grep); 1 if none does within SECONDS.
ph_wait_log() {
	for _ in $(seq 1 $(($1 * 10))); do
		grep -q -- "$2" "$WORK/pinholed.log" && return 0
		sleep 0.1
	done
	return 1
}

# ph_counters: pinholed's counters, asked for now (SIGUSR1), in COUNTERS:
# "stats: C calls; sip: S server and N client transactions held"; fails
# when no new line comes within 5 s.
ph_counters() {
	_n=$(grep -c 'stats: [0-9]* calls; sip: ' "$WORK/pinholed.log")
	kill -USR1 "$PH_PID"
	for _ in $(seq 1 50); do
		if [ "$(grep -c 'stats: [0-9]* calls; sip: ' "$WORK/pinholed.log")" -gt "$_n" ]; then
			COUNTERS=$(grep -o 'stats: [0-9]* calls; sip: [0-9]* server and [0-9]* client transactions held' \
				"$WORK/pinholed.log" | tail -1)
			return 0
		fi
		sleep 0.1
	done
	fail "no counters logged within 5 s of SIGUSR1"
}

# call_scenarios FILE...: call.sh's SIPp scenarios copied to $WORK/sf with
# their media ports moved to free ones (MP, MP + 1, MP + 2, MP + 4; see
# call.sh); SIPP_DIR then names the copies.
call_scenarios() {
	MP=$(free_base 6) || fail "no free media ports"
	mkdir -p "$WORK/sf"
	for f in "$@"; do
		sed -e "s/\b41000\b/$MP/g" -e "s/\b41001\b/$((MP + 1))/g" \
		    -e "s/\b41002\b/$((MP + 2))/g" -e "s/\b41004\b/$((MP + 4))/g" \
			"$SIPP_DIR/$f" >"$WORK/sf/$f" || fail "cannot copy $f"
	done
	SIPP_DIR=$WORK/sf
}

# callee_start SECONDS: call_uas.xml answering one call within SECONDS, in
# the background on a free port other than MP; sets uas and uas_pid.
callee_start() {
	uas=$MP
	for _ in 1 2 3 4 5; do
		[ "$uas" = "$MP" ] || break
		uas=$(free_base 1) || fail "no port for the callee"
	done
	[ "$uas" != "$MP" ] || fail "no port for the callee"
	timeout $(($1 + 10)) sipp -sf "$SIPP_DIR/call_uas.xml" -i 127.0.0.1 -p "$uas" -m 1 \
		-timeout "$1s" -nostdin -trace_err -error_file "$WORK/uas-err.log" \
		>"$WORK/uas.out" 2>&1 &
	uas_pid=$!
}

# sipp_run SCENARIO [SIPP ARGS]...: one call of the scenario; fails the test
# (with SIPp's errors and pinholed's log) unless the call succeeds.
sipp_run() {
	sf=$1; shift
	lp=$(free_base 1) || fail "no free port for SIPp"
	host=$PH_IP
	case $PH_IP in *:*) host="[$PH_IP]" ;; esac
	if ! timeout 20 sipp "$host:$SIP_PORT" -sf "$SIPP_DIR/$sf" -m 1 \
		-i "$PH_IP" -p "$lp" -timeout 10s -nostdin -trace_err \
		-error_file "$WORK/sipp-err.log" -trace_msg \
		-message_file "$WORK/sipp-msg.log" "$@" >"$WORK/sipp-out.log" 2>&1; then
		echo "SIPp scenario $sf failed:"
		tail -20 "$WORK/sipp-err.log" 2>/dev/null
		tail -60 "$WORK/sipp-msg.log" 2>/dev/null
		fail "$sf"
	fi
	echo "ok: $sf $*"
}
