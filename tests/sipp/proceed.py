#!/usr/bin/env python3
"""An INVITE branch once it rings (registrar/proceed.c: pinholed's, not
nta's). Over UDP, a caller A calls a registered callee B through pinholed:

    proceed.py HOST PORT calls N   N calls: B rings, answers 200, A ACKs
                                   and hangs up (what pinholed then holds
                                   is proceed.sh's to check)
    proceed.py HOST PORT busy      B rings, then 486: A gets the 486, B an
                                   ACK of its INVITE's transaction (RFC
                                   3261 17.1.1.3), and again for the 486
                                   repeated, which A never sees twice
    proceed.py HOST PORT cancel    B rings, A CANCELs: B gets a CANCEL of
                                   its INVITE (9.1), answers 487, which A
                                   gets, and B its ACK
    proceed.py HOST PORT phone U   A calls U, a real phone (phones.sh),
                                   CANCELs once it rings: A gets 487
    proceed.py HOST PORT timerc    B rings, then falls silent: Timer C
                                   (185 s, 16.6 step 11) CANCELs its
                                   branch, and 64*T1 later A gets 408
                                   (about 220 s: proceed.sh runs it only
                                   with PROCEED_TIMERC=1)

Prints one "ok:" line per check; exits 1 at the first failure."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipsock import (alice_headers, callee_reply, expect, fail,  # noqa: E402
                     first_line, header, recv_sip, sip, udp)

HOST, PORT, WHAT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
WAIT = 2.0


def port_of(s):
    return s.getsockname()[1]


def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n" % (HOST, HOST, port))


def register(b):
    reg = alice_headers(b, "proceed-reg-%d" % os.getpid(), "REGISTER", 1, "reg1")
    reg[2] = "From: <sip:bob@%s>;tag=reg" % HOST
    reg[-1] = "Contact: <sip:bob@%s:%d>" % (HOST, port_of(b))
    b.sendto(sip("REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT),
                 reg + ["Expires: 300"]), (HOST, PORT))
    expect("REGISTER bob", recv_sip(b)[0], "SIP/2.0 200 ")


def ring(a, b, call_id):
    """A's INVITE, B's 180 (which A gets): (the INVITE at B, its source)."""
    a.sendto(sip("INVITE sip:bob@%s:%d SIP/2.0" % (HOST, PORT),
                 alice_headers(a, call_id, "INVITE", 1, "inv" + call_id,
                     extra=["Content-Type: application/sdp"]),
                 sdp(port_of(a) + 2)), (HOST, PORT))
    inv, src = recv_sip(b)
    expect(call_id + ": the INVITE forwarded to bob", inv, "INVITE ")
    callee_reply(b, inv, src, b"180 Ringing", "bob", "callee")
    expect(call_id + ": the 180 at alice", recv_sip(a)[0], "SIP/2.0 180 ")
    return inv, src


def same_transaction(what, req, inv, method):
    """req (at B) is method of inv's transaction: its top Via (branch),
    Request-URI, Call-ID and CSeq number."""
    want_line = inv.split(b"\r\n", 1)[0].replace(b"INVITE", method.encode(), 1)
    if req.split(b"\r\n", 1)[0] != want_line:
        fail("%s: request line %r, not %r" % (what, first_line(req), want_line))
    if req.count(b"\r\nVia:") != 1:
        fail("%s: %d Via lines, not the INVITE's top one alone"
             % (what, req.count(b"\r\nVia:")))
    if header(req, "Via") != header(inv, "Via"):
        fail("%s: Via %r, not the INVITE's %r"
             % (what, header(req, "Via"), header(inv, "Via")))
    cseq = header(inv, "CSeq").split()[0] + " " + method
    if header(req, "CSeq") != cseq or header(req, "Call-ID") != header(inv, "Call-ID"):
        fail("%s: CSeq %r Call-ID %r" % (what, header(req, "CSeq"),
                                         header(req, "Call-ID")))


def calls(a, b, n):
    for i in range(n):
        call_id = "proceed-call%d-%d" % (i, os.getpid())
        inv, src = ring(a, b, call_id)
        callee_reply(b, inv, src, b"200 OK", "bob", "callee", sdp(port_of(b) + 2))
        ok, _ = recv_sip(a)
        expect(call_id + ": the 200 at alice", ok, "SIP/2.0 200 ")
        route = ["Route: " + header(inv, "Record-Route")]
        ruri = "sip:bob@%s:%d" % (HOST, port_of(b))
        a.sendto(sip("ACK %s SIP/2.0" % ruri,
                     alice_headers(a, call_id, "ACK", 1, "ack" + call_id, "callee", route)),
                 (HOST, PORT))
        expect(call_id + ": the ACK at bob", recv_sip(b)[0], "ACK ")
        a.sendto(sip("BYE %s SIP/2.0" % ruri,
                     alice_headers(a, call_id, "BYE", 2, "bye" + call_id, "callee", route)),
                 (HOST, PORT))
        bye, src = recv_sip(b)
        expect(call_id + ": the BYE at bob", bye, "BYE ")
        callee_reply(b, bye, src, b"200 OK", "bob", "callee")
        expect(call_id + ": the 200 to the BYE", recv_sip(a)[0], "SIP/2.0 200 ")
    print("ok: %d calls rang, were answered and hung up" % n)


def busy(a, b):
    call_id = "proceed-busy-%d" % os.getpid()
    inv, src = ring(a, b, call_id)
    callee_reply(b, inv, src, b"486 Busy Here", "bob", "callee")
    expect("the 486 at alice", recv_sip(a)[0], "SIP/2.0 486 ")
    ack, _ = recv_sip(b)
    expect("the ACK of the 486 at bob", ack, "ACK ")
    same_transaction("the ACK of the 486", ack, inv, "ACK")
    if ";tag=callee" not in (header(ack, "To") or ""):
        fail("the ACK's To has not bob's tag: %r" % header(ack, "To"))
    print("ok: a 486 after ringing reaches alice; bob gets its ACK, in the "
          "INVITE's transaction")
    # the caller's ACK ends pinholed's server transaction; bob, as if the
    # ACK had been lost, repeats its 486
    a.sendto(sip("ACK sip:bob@%s:%d SIP/2.0" % (HOST, PORT),
                 alice_headers(a, call_id, "ACK", 1, "inv" + call_id, "callee")),
             (HOST, PORT))
    callee_reply(b, inv, src, b"486 Busy Here", "bob", "callee")
    again, _ = recv_sip(b)
    expect("the ACK of the repeated 486 at bob", again, "ACK ")
    same_transaction("the ACK of the repeated 486", again, inv, "ACK")
    late, _ = recv_sip(a, 1.0)
    if late:
        fail("alice got %r after her call's final answer" % first_line(late))
    print("ok: the 486 repeated is ACKed again and goes no further")


def cancel(a, b):
    call_id = "proceed-cancel-%d" % os.getpid()
    inv, src = ring(a, b, call_id)
    a.sendto(sip("CANCEL sip:bob@%s:%d SIP/2.0" % (HOST, PORT),
                 alice_headers(a, call_id, "CANCEL", 1, "inv" + call_id)), (HOST, PORT))
    got, _ = recv_sip(a)
    expect("the 200 to alice's CANCEL", got, "SIP/2.0 200 ")
    can, csrc = recv_sip(b)
    expect("the CANCEL at bob", can, "CANCEL ")
    same_transaction("the CANCEL", can, inv, "CANCEL")
    callee_reply(b, can, csrc, b"200 OK", "bob", "callee")
    callee_reply(b, inv, src, b"487 Request Terminated", "bob", "callee")
    expect("the 487 at alice", recv_sip(a)[0], "SIP/2.0 487 ")
    ack, _ = recv_sip(b)
    expect("the ACK of the 487 at bob", ack, "ACK ")
    same_transaction("the ACK of the 487", ack, inv, "ACK")
    print("ok: alice's CANCEL reaches bob in his INVITE's transaction; his "
          "487 reaches her, and he gets its ACK")

    # a CANCEL before bob rang: it waits for his first answer (9.1)
    call_id = "proceed-early-%d" % os.getpid()
    a.sendto(sip("INVITE sip:bob@%s:%d SIP/2.0" % (HOST, PORT),
                 alice_headers(a, call_id, "INVITE", 1, "inv" + call_id,
                     extra=["Content-Type: application/sdp"]),
                 sdp(port_of(a) + 2)), (HOST, PORT))
    inv, src = recv_sip(b)
    expect("early: the INVITE forwarded to bob", inv, "INVITE ")
    a.sendto(sip("CANCEL sip:bob@%s:%d SIP/2.0" % (HOST, PORT),
                 alice_headers(a, call_id, "CANCEL", 1, "inv" + call_id)), (HOST, PORT))
    expect("early: the 200 to alice's CANCEL", recv_sip(a)[0], "SIP/2.0 200 ")
    callee_reply(b, inv, src, b"180 Ringing", "bob", "callee")
    can, csrc = recv_sip(b)
    expect("early: the CANCEL at bob once he rang", can, "CANCEL ")
    same_transaction("early: the CANCEL", can, inv, "CANCEL")
    callee_reply(b, can, csrc, b"200 OK", "bob", "callee")
    callee_reply(b, inv, src, b"487 Request Terminated", "bob", "callee")
    got, _ = recv_sip(a)
    if got and got.startswith(b"SIP/2.0 180 "):  # his 180 may go up first
        got, _ = recv_sip(a)
    expect("early: the 487 at alice", got, "SIP/2.0 487 ")
    expect("early: the ACK of the 487 at bob", recv_sip(b)[0], "ACK ")
    print("ok: a CANCEL before bob rang reaches him once he rings; his 487 "
          "reaches alice, and he gets its ACK")


def phone(a, user):
    """A calls user (a phone of its own, not B) and gives up while it
    rings: 200 to the CANCEL, then the 487, which A ACKs."""
    call_id = "proceed-phone-%d" % os.getpid()
    h = alice_headers(a, call_id, "INVITE", 1, "inv" + call_id,
                      extra=["Content-Type: application/sdp"])
    h[3] = "To: <sip:%s@%s>" % (user, HOST)
    ruri = "sip:%s@%s:%d" % (user, HOST, PORT)
    a.sendto(sip("INVITE %s SIP/2.0" % ruri, h, sdp(port_of(a) + 2)), (HOST, PORT))
    got, _ = recv_sip(a, 10)
    expect("%s ringing" % user, got, "SIP/2.0 18")
    h = alice_headers(a, call_id, "CANCEL", 1, "inv" + call_id)
    h[3] = "To: <sip:%s@%s>" % (user, HOST)
    a.sendto(sip("CANCEL %s SIP/2.0" % ruri, h), (HOST, PORT))
    finals = {}
    end = time.monotonic() + 10
    while len(finals) < 2 and time.monotonic() < end:
        got, _ = recv_sip(a, end - time.monotonic())
        if got and not got.startswith(b"SIP/2.0 1"):
            finals[first_line(got).split()[1] + " " + header(got, "CSeq")] = got
    if sorted(finals) != ["200 1 CANCEL", "487 1 INVITE"]:
        fail("after alice's CANCEL to %s: %r, not 200 and 487"
             % (user, sorted(finals)))
    h = alice_headers(a, call_id, "ACK", 1, "inv" + call_id)
    h[3] = "To: " + header(finals["487 1 INVITE"], "To")
    a.sendto(sip("ACK %s SIP/2.0" % ruri, h), (HOST, PORT))
    print("ok: %s rang; alice's CANCEL got 200, her INVITE 487" % user)


def timerc(a, b):
    call_id = "proceed-timerc-%d" % os.getpid()
    inv, _ = ring(a, b, call_id)
    start = time.monotonic()
    can, _ = recv_sip(b, 200)
    expect("the CANCEL of Timer C at bob", can, "CANCEL ")
    same_transaction("the CANCEL of Timer C", can, inv, "CANCEL")
    took = time.monotonic() - start
    if took < 180:
        fail("Timer C fired after %.0f s, not past 3 minutes" % took)
    print("ok: %.0f s after bob's 180 his branch is CANCELled (Timer C)" % took)
    end = time.monotonic() + 40
    got = None
    while time.monotonic() < end:
        got, _ = recv_sip(a, end - time.monotonic())
        if not got or not got.startswith(b"SIP/2.0 1"):
            break
    expect("alice's answer once bob's branch, CANCELled, said nothing", got,
           "SIP/2.0 408 ")
    print("ok: %.0f s after the CANCEL, with no answer from bob, alice gets 408"
          % (time.monotonic() - start - took))


def main():
    a, b = udp(HOST, WAIT), udp(HOST, WAIT)
    if WHAT == "phone":
        return phone(a, sys.argv[4])
    register(b)
    if WHAT == "calls":
        calls(a, b, int(sys.argv[4]))
    elif WHAT == "busy":
        busy(a, b)
    elif WHAT == "cancel":
        cancel(a, b)
    elif WHAT == "timerc":
        timerc(a, b)
    else:
        fail("calls N | busy | cancel | phone USER | timerc")
    a.close()
    b.close()


main()
