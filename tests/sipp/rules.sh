#!/bin/sh
# Registrar rules and other methods against the real pinholed, over TCP:
# their queries list several bindings and OPTIONS' 200 its Allow, which
# open pinholed gives a UDP source only as far as they fit in the
# request's size (stranger.h; amplify.sh checks that side).
. "${top_srcdir:-.}/tests/sipp/lib.sh"

ph_start
sipp_run rules.xml -t t1
sipp_run methods.xml -t t1
