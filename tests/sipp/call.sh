#!/bin/sh
# A call through pinholed between two firewalled SIPp endpoints: each side's
# window is checked against pinholed's STUN service, the callee is told to
# open and the caller to transmit (header and SDP), ACK and BYE follow the
# Record-Route, the call report is logged; and the calls that cannot be
# made are refused with a reason.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
NC=$top_builddir/tests/sipp/netcheck

ph_start
# The media ports (windows) at free ports, not fixed ones that another test
# running in parallel may hold: the scenarios' 41000 (caller), 41001, 41002
# (callee) and 41004 (a window never seen) become MP, MP+1, MP+2, MP+4, in
# copies of the scenarios. (Chosen once pinholed holds its ports; the
# callee's port is another: free_base's ports are multiples of 10.)
call_scenarios register_user.xml call_uas.xml call_uac.xml call_refused.xml
callee_start 20
sipp_run register_user.xml -key user bob -key uas "$uas"

# the media ports' windows, as pinholed's STUN service sees them
for p in "$MP" $((MP + 2)); do
	"$NC" stun -l "$p" 127.0.0.1 "$STUN_PORT" >/dev/null || fail "no STUN answer for $p"
done
sipp_run call_uac.xml
wait "$uas_pid" || { cat "$WORK/uas-err.log"; fail "the callee's side of the call failed"; }
grep -q "call .*: 200; route direct (both keep their windows: callee opens, caller transmits); caller transmit" \
	"$WORK/pinholed.log" || fail "no call report for the direct call"
echo "ok: direct call, both parts told, call report logged"

# the refusals, on a pinholed without a relay (so a call that needs one
# is refused 503; with the relay it goes through it: relay.sh)
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null
ph_start -o relay=off
sipp_run register_user.xml -key user bob -key uas "$uas"
sipp_run call_refused.xml
grep -q "caller's a=fw-window 127.0.0.1:$((MP + 4)) not seen" "$WORK/pinholed.log" ||
	fail "the unseen window is not logged"
echo "ok: refused calls answered with reasons"
