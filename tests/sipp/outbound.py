#!/usr/bin/env python3
"""RFC 5626 at the registrar (outbound.sh): a REGISTER whose Contact has
reg-id and +sip.instance gets Require: outbound in its 200, and over TCP
Flow-Timer too (not over UDP: the phone keeps its NAT open at its own
pace); Require: outbound in the request is accepted, another option tag
is not (420); one without reg-id, or behind a Path without ;ob, gets
neither header.

    outbound.py HOST PORT FLOW_TIMER"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipsock import fail, sip  # noqa: E402

HOST, PORT, TIMER = sys.argv[1], int(sys.argv[2]), sys.argv[3]
INSTANCE = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"'
seq = [0]


def register(s, proto, user, params, extra=()):
    seq[0] += 1
    local = s.getsockname()
    s.send(sip("REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), [
        "Via: SIP/2.0/%s %s:%d;rport;branch=z9hG4bKob%d"
        % (proto, local[0], local[1], seq[0]),
        "Max-Forwards: 70", "From: <sip:%s@%s>;tag=ob%d" % (user, HOST, seq[0]),
        "To: <sip:%s@%s>" % (user, HOST), "Call-ID: ob-%s" % user,
        "CSeq: %d REGISTER" % seq[0], "Supported: outbound, path",
        "Contact: <sip:%s@%s:%d;transport=%s>%s"
        % (user, local[0], local[1], proto.lower(), params),
        "Expires: 300"] + list(extra)))
    data = b""
    while b"\r\n\r\n" not in data:  # no body: Content-Length: 0
        got = s.recv(65535)
        if not got:
            break
        data += got
    return data.decode(errors="replace")


def header(msg, name):
    for line in msg.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def conn(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(3)
    s.bind((HOST, 0))
    s.connect((HOST, PORT))
    return s


tcp, udp = conn(socket.SOCK_STREAM), conn(socket.SOCK_DGRAM)
ob = ";reg-id=1;" + INSTANCE

r = register(tcp, "TCP", "ann", ob)
if not r.startswith("SIP/2.0 200 ") or header(r, "Require") != "outbound" \
        or header(r, "Flow-Timer") != TIMER:
    fail("outbound over TCP: want 200, Require: outbound, Flow-Timer: %s; "
         "got %r" % (TIMER, r))
print("ok: outbound over TCP: Require: outbound, Flow-Timer: " + TIMER)

r = register(udp, "UDP", "ben", ob)
if not r.startswith("SIP/2.0 200 ") or header(r, "Require") != "outbound" \
        or header(r, "Flow-Timer") is not None:
    fail("outbound over UDP: want Require: outbound, no Flow-Timer; got %r" % r)
print("ok: outbound over UDP: Require: outbound, no Flow-Timer")

r = register(tcp, "TCP", "ann", ob, ["Require: outbound"])
if not r.startswith("SIP/2.0 200 "):
    fail("Require: outbound refused: %r" % r)
r = register(tcp, "TCP", "ann", ob, ["Require: outbound, 100rel"])
if not r.startswith("SIP/2.0 420 ") or header(r, "Unsupported") != "100rel":
    fail("Require: 100rel: want 420 Unsupported: 100rel; got %r" % r)
print("ok: Require: outbound accepted, 100rel refused 420")

for why, params, extra in (
        ("no reg-id", ";" + INSTANCE, []),
        ("a Path without ;ob", ob, ["Path: <sip:edge.example.com;lr>"])):
    r = register(tcp, "TCP", "cat", params, extra)
    if not r.startswith("SIP/2.0 200 ") or header(r, "Require") or \
            header(r, "Flow-Timer"):
        fail("%s: want a plain 200, got %r" % (why, r))
    print("ok: %s: a plain 200" % why)
