#!/bin/sh
# No reflection amplification (PROTOCOL.md section 1): a stranger's STUN
# requests of every kind, to every STUN, hop-test and SIP port, get back
# no more bytes than they carried; padded requests still get the full
# answer and the hop test both answers; a registered address's bare
# request is answered (amplify.py). Then SIP from a stranger in open
# mode: no answer larger than its request (auth.py open).
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
SIPCHECK_ARGS=-e	# the SIP port's STUN answers are not SIP

ph_start
timeout 60 python3 "$SIPP_DIR/amplify.py" 127.0.0.1 "$SIP_PORT" "$STUN_PORT" \
	127.0.0.5 127.0.0.6 || fail "amplify.py"

# Open (no users file, the default): SIP requests from a stranger's UDP
# source get back no more bytes than they carried (stranger.h), over TCP
# the whole answers (auth.py open_mode: the out/in table)
timeout 40 python3 "$SIPP_DIR/auth.py" 127.0.0.1 "$SIP_PORT" example.com open ||
	fail "auth.py open"
