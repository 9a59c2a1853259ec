"""What the scripted SIP tests share: a UDP socket on the test's address,
a request to pinholed without a body, a message with its Content-Length,
a header field's value, the next message but 100 Trying, a scripted
callee's answer, and the failure line."""
import socket
import sys
import time


def udp(host, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(timeout)
    return s


def send(s, dst, start, hdrs):
    """start line and header lines, then Content-Length: 0."""
    s.sendto(("\r\n".join([start] + hdrs + ["Content-Length: 0", "", ""]))
             .encode(), dst)


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def sip(start, headers, body=""):
    lines = [start] + headers + ["Content-Length: %d" % len(body), "", body]
    return "\r\n".join(lines).encode()


def header(msg, name):
    """The value of msg's (bytes) first header field name, or None."""
    for line in msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode()
    return None


def alice_headers(s, call_id, method, cseq, branch, to_tag=None, extra=()):
    """The header lines of a request alice sends bob from s (both at s's
    host): Via with branch z9hG4bK + branch, From, To (tagged), Call-ID,
    CSeq, her Contact, then extra."""
    host, port = s.getsockname()[:2]
    return ["Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s" % (host, port, branch),
            "Max-Forwards: 70",
            "From: <sip:alice@%s>;tag=caller" % host,
            "To: <sip:bob@%s>%s" % (host, ";tag=" + to_tag if to_tag else ""),
            "Call-ID: " + call_id,
            "CSeq: %d %s" % (cseq, method),
            "Contact: <sip:alice@%s:%d>" % (host, port)] + list(extra)


def recv_sip(s, wait=2.0):
    """The next SIP message on s that is not 100 Trying, within wait
    seconds: (msg, src), or (None, None)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        if not data.startswith(b"SIP/2.0 100 "):
            return data, src
    return None, None


def first_line(msg):
    return msg.split(b"\r\n", 1)[0].decode(errors="replace") if msg else None


def expect(what, msg, want):
    """fail unless msg's first line starts with want."""
    if not msg or not first_line(msg).startswith(want):
        fail("%s: expected %r, got %r" % (what, want, first_line(msg)))


def callee_reply(s, request, src, code, user, tag, body=""):
    """A scripted callee's answer (code: bytes) on s to a request pinholed
    forwarded to it from src: its Via, From, To (tagged), Call-ID, CSeq
    and Record-Route, a Contact of user at s's address, an SDP body."""
    head = request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [h for h in head if h.split(b":", 1)[0].strip().lower() in
            (b"via", b"from", b"to", b"call-id", b"cseq", b"record-route")]
    keep = [h + b";tag=" + tag.encode() if h.lower().startswith(b"to:") and
            b"tag=" not in h else h for h in keep]
    host, port = s.getsockname()[:2]
    keep.append(b"Contact: <sip:%s@%s:%d>" % (user.encode(), host.encode(), port))
    if body:
        keep.append(b"Content-Type: application/sdp")
    s.sendto(b"SIP/2.0 " + code + b"\r\n" + b"\r\n".join(keep) +
             b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body.encode(),
             src)
