#!/usr/bin/env python3
"""store = redis: two nodes writing one AoR at once (redis.sh). Each
round, a phone registers its contact through node 1 and another phone a
contact of its own to the same AoR through node 2, the two REGISTERs sent
together; at the end, both nodes must list both contacts of every AoR
(had each node written the AoR's whole set, the last write would have
dropped the other node's contact).

    redisrace.py HOST NODE1_PORT NODE2_PORT ROUNDS"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, N1, N2, ROUNDS = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                        int(sys.argv[4]))


def register(s, node, aor, tag, contact):
    """A REGISTER of contact (None: a query) to aor, through node."""
    lp = s.getsockname()[1]
    hdrs = ["Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrace%s" % (HOST, lp, tag),
            "Max-Forwards: 70", "From: <sip:%s@pinhole.test>;tag=%s" % (aor, tag),
            "To: <sip:%s@pinhole.test>" % aor, "Call-ID: race-%s" % tag,
            "CSeq: 1 REGISTER"]
    if contact:
        hdrs.append("Contact: <%s>;expires=120" % contact)
    else:
        # sized as a phone's query: open mode answers a UDP stranger with
        # no more than it sent (PROTOCOL.md 10), the AoR's two contacts
        hdrs += ["User-Agent: redisrace.py",
                 "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO"]
    sipsock.send(s, (HOST, node), "REGISTER sip:%s:%d SIP/2.0" % (HOST, node),
                 hdrs)


def answer(s):
    """The final answer on s, or None after 3 s."""
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            d = s.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        if d.startswith("SIP/2.0 ") and not d.startswith("SIP/2.0 1"):
            return d
    return None


a, b = sipsock.udp(HOST, 0.5), sipsock.udp(HOST, 0.5)
for r in range(ROUNDS):
    aor = "race%d" % r
    register(a, N1, aor, "a%d" % r, "sip:a@%s:%d" % (HOST, a.getsockname()[1]))
    register(b, N2, aor, "b%d" % r, "sip:b@%s:%d" % (HOST, b.getsockname()[1]))
    for s, n in ((a, 1), (b, 2)):
        got = answer(s)
        if not got or not got.startswith("SIP/2.0 200 "):
            sipsock.fail("round %d: REGISTER through node %d: %r" %
                         (r, n, got and got.split("\r\n")[0]))
time.sleep(0.5)  # every node has read the others' changes
q = sipsock.udp(HOST, 0.5)
lost = []
for r in range(ROUNDS):
    for node in (N1, N2):
        register(q, node, "race%d" % r, "q%d-%d" % (r, node), None)
        got = answer(q) or ""
        n = sum(h.count("<sip:") for h in got.partition("\r\n\r\n")[0]
                .split("\r\n") if h.lower().startswith(("contact:", "m:")))
        if n != 2:
            lost.append("race%d at node %d: %d" % (r, 1 if node == N1 else 2, n))
if lost:
    sipsock.fail("%d of %d AoRs do not list both contacts (want 2): %s" %
                 (len(lost), 2 * ROUNDS, ", ".join(lost[:6])))
print("ok: %d AoRs registered through both nodes at once: both contacts "
      "kept, listed by both nodes" % ROUNDS)
