#!/bin/sh
# Registrar rules, Firewall-Window handling and other methods, over UDP,
# against the real pinholed.
. "${top_srcdir:-.}/tests/sipp/lib.sh"

ph_start
sipp_run rules.xml
sipp_run fwwin.xml
sipp_run methods.xml
grep -q 'REGISTER carol@example.com from 127.0.0.1:[0-9]*/udp: 400 Bad Firewall-Window' \
	"$WORK/pinholed.log" || fail "the refused Firewall-Window is not logged"
