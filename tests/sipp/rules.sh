#!/bin/sh
# Registrar rules and other methods, over UDP, against the real pinholed.
. "${top_srcdir:-.}/tests/sipp/lib.sh"

ph_start
sipp_run rules.xml
sipp_run methods.xml
