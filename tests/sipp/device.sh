#!/bin/sh
# One device rings once (device.py): two Contacts registered over one flow
# with one Call-ID get one INVITE; two phones of one AoR get one each.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"

ph_start
timeout 30 python3 "$SIPP_DIR/device.py" "$PH_IP" "$SIP_PORT" || fail "device.py"
