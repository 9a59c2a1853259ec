#!/usr/bin/env python3
"""One REGISTER to pinholed, for the shell tests: CONTACT a URI to bind
(for 120 s), "*" to remove every binding, "-" to ask. Prints how many
contacts the 200 lists; fails on any other answer.

    reg.py HOST PORT USER CONTACT"""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, PORT, USER, CONTACT = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                             sys.argv[4])
s = sipsock.udp(HOST, 0.5)
lp = s.getsockname()[1]
hdrs = ["Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKreg%d" % (HOST, lp, lp),
        "Max-Forwards: 70", "From: <sip:%s@pinhole.test>;tag=r" % USER,
        "To: <sip:%s@pinhole.test>" % USER, "Call-ID: reg-%d" % lp,
        "CSeq: 1 REGISTER"]
if CONTACT == "*":
    hdrs += ["Contact: *", "Expires: 0"]
elif CONTACT != "-":
    hdrs += ["Contact: <%s>;expires=120" % CONTACT]
sipsock.send(s, (HOST, PORT), "REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), hdrs)
end = time.monotonic() + 3
while time.monotonic() < end:
    try:
        got = s.recv(65535).decode(errors="replace")
    except socket.timeout:
        continue
    if got.startswith("SIP/2.0 1"):
        continue
    if not got.startswith("SIP/2.0 200 "):
        sipsock.fail("REGISTER %s to %s: %r" % (CONTACT, USER, got.split("\r\n")[0]))
    # a stranger's answer cut to the request's size says how many there are
    # ("OK: k of N bindings, all over TCP", open mode): N, not the k listed
    cut = re.match(r"SIP/2\.0 200 OK: \d+ of (\d+) bindings", got)
    print(cut.group(1) if cut else
          sum(h.count("<sip:") for h in got.partition("\r\n\r\n")[0].split("\r\n")
              if h.lower().startswith(("contact:", "m:"))))
    sys.exit(0)
sipsock.fail("REGISTER %s to %s: no answer" % (CONTACT, USER))
