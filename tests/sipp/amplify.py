#!/usr/bin/env python3
"""Reflection and amplification of pinholed's STUN service (PROTOCOL.md
section 1): from a source that holds no binding, every kind of request
(bare, with FINGERPRINT, padded or not, CHANGE-REQUEST, the hop test's
PINHOLE-REPLY-FROM, unknown attributes, other methods, null packets) sent
to each port (stun_port, the alternate, the eight hop-test ports, the SIP
port): the bytes that come back are never more than the bytes sent. Then
the answers still serve: a request padded as libpinhole's gets the full
answer, the hop test its two answers, and a bare request from an address
that registered gets the small answer.

    amplify.py HOST SIP_PORT STUN_PORT STRANGER_IP PHONE_IP

Prints one "ok:" line per check and the ratio per port; exits 1 at the
first failure."""
import os
import socket
import struct
import sys
import time
import zlib

HOST, SIP_PORT, STUN_PORT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
STRANGER, PHONE = sys.argv[4], sys.argv[5]
MAGIC = 0x2112A442
WAIT = 0.4


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def stun(attrs=b"", method=1, fp=True, size=0):
    """A request of at least size bytes (PADDING, 0x0026, makes it up)."""
    tid = os.urandom(12)
    body = attrs
    room = size - (20 + len(body) + (8 if fp else 0) + 4)
    if room >= 0:
        body += attr(0x0026, b"\0" * room)
    hdr = struct.pack("!HHI", method, len(body) + (8 if fp else 0), MAGIC) + tid
    msg = hdr + body
    if fp:
        crc = (zlib.crc32(msg) ^ 0x5354554E) & 0xFFFFFFFF
        msg += attr(0x8028, struct.pack("!I", crc))
    return msg


def reply_from(port):
    return attr(0xBF01, struct.pack("!HH", port, 0))


def change(flags):
    return attr(0x0003, struct.pack("!I", flags))


FULL = 20 + 3 * 12 + 8  # XOR-MAPPED, RESPONSE-ORIGIN, OTHER-ADDRESS, FP


def shapes():
    yield b""  # a null packet
    yield stun(fp=False)  # 20 bytes: linphone's
    yield stun()  # 28
    for size in range(32, 200, 12):
        yield stun(size=size)
        yield stun(fp=False, size=size)
    for k in range(1, 9):
        hop = STUN_PORT + 1 + k
        yield stun(reply_from(hop))
        yield stun(reply_from(hop), size=FULL)
        yield stun(reply_from(hop), size=2 * FULL)
    yield stun(change(2))
    yield stun(change(2), size=FULL)
    yield stun(change(4), size=FULL)  # change-IP: 400
    yield stun(attr(0x0031, b"\0" * 4))  # unknown: 420
    yield stun(attr(0x0031, b"\0" * 4), size=FULL)
    yield stun(method=0x0003)  # not Binding: 400
    yield stun(method=0x0003, size=FULL)


def sock(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    s.settimeout(0.05)
    return s


def drain(s, until):
    got = []
    while time.time() < until:
        try:
            got.append(s.recvfrom(2048))
        except socket.timeout:
            pass
    return got


def xor_mapped(d):
    off = 20
    while off + 4 <= len(d):
        t, n = struct.unpack("!HH", d[off:off + 4])
        if t == 0x0020 and n == 8:
            port = struct.unpack("!H", d[off + 6:off + 8])[0] ^ (MAGIC >> 16)
            ip = struct.unpack("!I", d[off + 8:off + 12])[0] ^ MAGIC
            return socket.inet_ntoa(struct.pack("!I", ip)), port
        off += 4 + n + (-n % 4)
    return None


def attrs_of(d):
    off, seen = 20, []
    while off + 4 <= len(d):
        t, n = struct.unpack("!HH", d[off:off + 4])
        seen.append(t)
        off += 4 + n + (-n % 4)
    return seen


# 1. amplification, per port, from a stranger: each request from a socket
# of its own, so that a big one cannot hide a small one's
ports = [STUN_PORT, STUN_PORT + 1] + [STUN_PORT + 1 + k for k in range(1, 9)]
ports.append(SIP_PORT)
worst = 0.0
for port in ports:
    sent = got = 0
    socks = []
    for m in shapes():
        s = sock(STRANGER)
        s.sendto(m, (HOST, port))
        socks.append((s, m))
        sent += len(m)
    time.sleep(WAIT)
    for s, m in socks:
        out = 0
        s.setblocking(False)
        while True:
            try:
                out += len(s.recv(2048))
            except BlockingIOError:
                break
        s.close()
        if out > len(m):
            fail("port %d: %d bytes out for a %d-byte request %r" %
                 (port, out, len(m), m[:24]))
        got += out
    ratio = got / sent
    worst = max(worst, ratio)
    print("port %d: %d bytes in, %d bytes out: %.2f" % (port, sent, got, ratio))
print("ok: no port answers a stranger's request with more bytes than it "
      "carried (worst port %.2f)" % worst)

# 2. the answers still serve
s = sock(STRANGER)
me = s.getsockname()
s.sendto(stun(size=FULL), (HOST, STUN_PORT))
got = drain(s, time.time() + WAIT)
if len(got) != 1 or xor_mapped(got[0][0]) != me:
    fail("a padded request: expected one answer mapping %s, got %r" % (me, got))
if not {0x0020, 0x802B, 0x802C, 0x8028} <= set(attrs_of(got[0][0])):
    fail("a padded request: not the full answer: %r" % attrs_of(got[0][0]))
print("ok: a request padded to %d bytes gets the full answer" % FULL)
hop = STUN_PORT + 4
s.sendto(stun(reply_from(hop), size=2 * FULL), (HOST, STUN_PORT))
froms = sorted(a[1] for _, a in drain(s, time.time() + WAIT))
if froms != [STUN_PORT, hop]:
    fail("hop test: expected answers from %d and %d, got %r" % (STUN_PORT, hop, froms))
print("ok: a hop-test request padded for two gets both answers")
s.close()

# 3. a bare request from an address that holds a binding is answered
r = sock(PHONE)
rp = r.getsockname()[1]
reg = "\r\n".join([
    "REGISTER sip:%s:%d SIP/2.0" % (HOST, SIP_PORT),
    "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKamp%d" % (PHONE, rp, os.getpid()),
    "Max-Forwards: 70", "From: <sip:amp@example.com>;tag=amp",
    "To: <sip:amp@example.com>", "Call-ID: amplify-%d" % os.getpid(),
    "CSeq: 1 REGISTER", "Contact: <sip:amp@%s:%d>" % (PHONE, rp),
    "Expires: 600", "Content-Length: 0", "", ""]).encode()
r.sendto(reg, (HOST, SIP_PORT))
status = b""
for d, _ in drain(r, time.time() + 1.0):
    status = status or d.split(b"\r\n", 1)[0]
if not status.startswith(b"SIP/2.0 200"):
    fail("the phone did not register: %r" % status)
p = sock(PHONE)
p.sendto(stun(fp=False), (HOST, SIP_PORT))
got = drain(p, time.time() + WAIT)
if len(got) != 1 or xor_mapped(got[0][0]) != p.getsockname():
    fail("a bare request from a registered address: expected its answer, got %r" % got)
print("ok: a bare 20-byte request from a registered address is answered "
      "(%d bytes)" % len(got[0][0]))
