# tests/bench/record.sh: sourced by tests/bench/register and tests/bench/relay
# to keep each run in $RESULTS/NAME-YYYYMMDD-HHMM.txt: how it was run (the
# command with its knobs, the commit), on what (CPUs, CPU model, kernel,
# load average before and after, the busiest other processes at the start),
# the summary table, and the raw output of every anchor run. Uses $OUT (the
# run's scratch directory), $RESULTS and $ROOT.

busy_pct() { # share of all CPUs not idle over one second (/proc/stat)
	local a b
	a=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
	echo "$a $b" | awk '{ t = $3 - $1; printf "%.0f", (t > 0) ? 100 * (t - ($4 - $2)) / t : 0 }'
}

record_start() { # NAME KNOBS VERSIONS
	REC_NAME=$1 REC_T0=$(date +%s)
	REC_FILE=$RESULTS/$1-$(date -u +%Y%m%d-%H%M).txt
	[ -e "$REC_FILE" ] && REC_FILE=$RESULTS/$1-$(date -u +%Y%m%d-%H%M%S).txt
	{
		echo "# $1 benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		echo "command:  $2 tests/bench/$1${MAKELEVEL:+   (run by make)}"
		echo "commit:   $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
		echo "machine:  $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)," \
			"$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
		echo "software: $3"
		echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg);" \
			"machine busy in the second before: $(busy_pct) % of all CPUs"
		echo "busiest processes at start (%CPU over their lifetime, command):"
		ps -eo pcpu=,comm= --sort=-pcpu 2>/dev/null | head -5 | sed 's/^/    /'
	} >"$OUT/record-head.txt"
}

record_end() { # STATUS RAW... (files in $OUT, with or without .txt)
	local st=$1 f
	shift
	mkdir -p "$RESULTS" 2>/dev/null
	{
		cat "$OUT/record-head.txt"
		echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg);" \
			"machine busy in the second after: $(busy_pct) % of all CPUs"
		echo "wall time: $(( $(date +%s) - REC_T0 )) s; exit status $st"
		echo
		[ -s "$OUT/summary.txt" ] && cat "$OUT/summary.txt"
		for f in "$@"; do
			[ -f "$OUT/$f.txt" ] && f=$f.txt
			[ -f "$OUT/$f" ] || continue
			echo
			echo "################ raw: $f"
			cat "$OUT/$f"
		done
	} >"$REC_FILE.tmp" && mv "$REC_FILE.tmp" "$REC_FILE" &&
		echo "this run is kept in $REC_FILE" ||
		{ rm -f "$REC_FILE.tmp"; echo "cannot write $REC_FILE: this run is not kept"; }
}
