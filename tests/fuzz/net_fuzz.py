#!/usr/bin/env python3
# tests/fuzz/net_fuzz.py: a network-level mutational fuzzer for pinholed.
#
# Starts a real pinholed on 127.0.0.1 and sends it valid SIP and STUN
# messages and mutations of them over UDP and TCP, while it plays the
# callees (UDP and TCP contacts registered to itself) that answer what
# pinholed forwards, with (mutated) provisional and final responses. Every
# few hundred inputs (and at least every 2 s) pinholed must answer an
# OPTIONS within 2 s, be alive and have no sanitizer report in its log.
#
# It refuses to run unless the only network interface is loopback: run it
# in a private network namespace (tests/fuzz/net.sh makes one), since a
# mutated REGISTER can point pinholed's forwarding at any address.
#
# Deterministic given --seed (the inputs; the timing of the answers is the
# machine's). On a failure the last inputs go to a file (printed) that
# --replay sends again. Standard library only.
import argparse
import base64
import collections
import heapq
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time

HOST = "127.0.0.1"
LIVE_EVERY = 250          # inputs between liveness checks
LIVE_MAX_GAP = 2.0        # seconds between liveness checks at most
LIVE_TIMEOUT = 2.0        # an OPTIONS must be answered within this
REGISTER_EVERY = 3.0      # seconds between re-registrations of the callees
RSS_LIMIT_KB = 1536 * 1024  # pinholed's memory: a runaway is a failure
MAX_CONNS = 8             # client TCP connections open at most
KEEP_INPUTS = 200         # inputs (and as many callee answers) saved on a failure
MAX_INPUT = 80000         # bytes in one input at most
SAN_RE = re.compile(r"runtime error:|AddressSanitizer|LeakSanitizer")

INTERESTING = [
	"", "0", "-1", "1", "65535", "65536", "4294967295", "4294967296",
	"18446744073709551616", "99999999999999999999999", "-2147483649",
	"5m", "<", ">", "<>", ";", ":", "::", "@", "%00", "%", "\"", "\\",
	"[::1]", "[", "]", "0x10", "1e9", "NaN", " ", "\t", ",", ",,", "=",
	"sip:", "sips:x", "tel:1", "*", "A" * 257, "\x00", "\xff", "\r", "\n",
]
HEADERS = [
	"Max-Forwards: {n}", "Content-Length: {n}", "Expires: {n}", "CSeq: {n} {m}",
	"Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK{w}", "Via: SIP/2.0/TCP {w}",
	"Route: <sip:127.0.0.1:{p};lr>", "Route: <sip:{w}@127.0.0.1:{n};lr>",
	"Record-Route: <sip:127.0.0.1:{p};lr;ph-a={w}>", "Contact: *",
	"Contact: <sip:{w}@127.0.0.1:{n}>;expires={n}", "Contact: {w}",
	"Firewall-Window: 198.51.100.2;mapping=eim;filtering=apdf;hops={n};lifetime={n}",
	"Firewall-Window: 203.0.113.7:4000;lifetime=60",
	"Firewall-Window: {w};local={w}", "Firewall-Punch: open;peer=127.0.0.1:{n}",
	"Require: {w}", "Proxy-Require: {w}", "Supported: {w}", "Call-ID: {w}",
	"From: <sip:{w}@example.com>;tag={w}", "To: <sip:{w}@example.com>;tag={w}",
	"Content-Type: application/sdp", "Content-Type: {w}", "Content-Encoding: gzip",
	"Authorization: Digest username=\"{w}\", nonce=\"{n}\"", "l: {n}", "m: <sip:{w}@127.0.0.1>",
	"v: SIP/2.0/UDP 127.0.0.1:{n}", "i: {w}", "t: <sip:{w}@example.com>",
]
SDP_PORTS = ["41000", "0", "5m", "65536", "-1", "41000/2", "x", "", "99999999999", "41001"]
SDP_PROTOS = ["RTP/AVP", "<", "udp", "RTP/SAVP", "", "TCP/RTP/AVP", "RTP/AVP/", ">"]
SDP_FMTS = ["0", "0 8 101", "", "<", "96", "9999999999", "*"]


def ms(x):
	return x / 1000.0


def only_loopback():
	"""True when this network namespace has no interface but lo."""
	try:
		with open("/proc/self/net/dev") as f:
			names = [l.split(":")[0].strip() for l in f.readlines()[2:]]
	except OSError:
		return False
	return names == ["lo"]


# ---------------------------------------------------------------- messages

def crlf(lines):
	return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def with_body(head, body, ctype):
	b = body.encode("latin-1")
	if ctype:
		head = head + ["Content-Type: " + ctype]
	return crlf(head + ["Content-Length: %d" % len(b), ""]) + b


def sdp(rng, port=41000):
	lines = ["v=0", "o=- %d 1 IN IP4 127.0.0.1" % rng.randrange(1, 99999), "s=-",
		 "c=IN IP4 127.0.0.1", "t=0 0", "m=audio %d RTP/AVP 0 8 101" % port,
		 "a=rtpmap:101 telephone-event/8000"]
	r = rng.random()
	if r < 0.5:
		lines.append("a=fw-window:127.0.0.1 %d" % port)
	elif r < 0.7:
		lines.append("a=fw-window:198.51.100.2 %d" % port)
	if rng.random() < 0.15:
		lines += ["m=video %d RTP/AVP 96" % (port + 2), "a=fw-window:127.0.0.1 %d" % (port + 2)]
	return "\r\n".join(lines) + "\r\n"


def fw_header(rng):
	return "Firewall-Window: " + rng.choice([
		"198.51.100.2;local=10.0.1.2;mapping=eim;filtering=apdf;hops=2;lifetime=30",
		"198.51.100.129;mapping=eim;filtering=apdf;hops=2;lifetime=30",
		"127.0.0.1;mapping=none;filtering=none;hops=1;lifetime=120",
		"203.0.113.7:4000;lifetime=60",
		"198.51.100.2;mapping=adm;filtering=adf;hops=64;lifetime=3600",
	])


def stun_msg(rng):
	tid = bytes(rng.randrange(256) for _ in range(12))
	attrs = b""
	for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
		kind = rng.randrange(6)
		if kind == 0:
			attrs += struct.pack("!HHI", 0x0003, 4, rng.choice([0, 2, 4, 6, 0xffffffff]))
		elif kind == 1:
			attrs += struct.pack("!HHHH", 0xBF01, 4, rng.randrange(65536), 0)
		elif kind == 2:
			attrs += struct.pack("!HHHH", 0x0027, 4, rng.randrange(65536), 0)
		elif kind == 3:
			n = rng.choice([0, 4, 100, 1000])
			attrs += struct.pack("!HH", 0x0026, n) + b"\0" * n
		elif kind == 4:
			attrs += struct.pack("!HH", 0x8022, 8) + b"pinhole!"
		else:
			n = rng.randrange(0, 40)
			attrs += struct.pack("!HH", rng.randrange(65536), n) + bytes(n + (-n) % 4)
	mtype = rng.choice([0x0001, 0x0001, 0x0001, 0x0111, 0x0101, 0x0011, rng.randrange(0x4000)])
	return struct.pack("!HHI", mtype, len(attrs), 0x2112A442) + tid + attrs


# ---------------------------------------------------------------- mutations

def lines_of(data):
	return data.split(b"\r\n")


def m_flip(rng, d):
	d = bytearray(d)
	for _ in range(rng.randrange(1, 8)):
		if d:
			d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
	return bytes(d)


def m_insert_bytes(rng, d):
	i = rng.randrange(len(d) + 1)
	return d[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16))) + d[i:]


def m_delete_line(rng, d):
	l = lines_of(d)
	if len(l) > 1:
		del l[rng.randrange(len(l))]
	return b"\r\n".join(l)


def m_dup_line(rng, d):
	l = lines_of(d)
	i = rng.randrange(len(l))
	l.insert(i, l[i])
	return b"\r\n".join(l)


def m_repeat_line(rng, d):
	l = lines_of(d)
	i = rng.randrange(len(l))
	l[i:i + 1] = [l[i]] * rng.choice([3, 10, 50, 200])
	return b"\r\n".join(l)


def m_swap_lines(rng, d):
	l = lines_of(d)
	i, j = rng.randrange(len(l)), rng.randrange(len(l))
	l[i], l[j] = l[j], l[i]
	return b"\r\n".join(l)


def m_insert_header(rng, d):
	l = lines_of(d)
	h = rng.choice(HEADERS).format(n=rng.choice(INTERESTING + ["70", "600", "0"]),
		m=rng.choice(["INVITE", "REGISTER", "ACK", "X"]), p=rng.randrange(65536),
		w=rng.choice(INTERESTING + ["fb", "fa", "abc"]))
	l.insert(rng.randrange(1, max(2, len(l))), h.encode("latin-1"))
	return b"\r\n".join(l)


TOKEN_RE = re.compile(rb"[^ ;:,=<>@/\r\n]+")


def m_replace_token(rng, d):
	toks = list(TOKEN_RE.finditer(d))
	for _ in range(rng.randrange(1, 4)):
		if not toks:
			break
		t = rng.choice(toks)
		new = rng.choice(INTERESTING).encode("latin-1")
		d = d[:t.start()] + new + d[t.end():]
		toks = list(TOKEN_RE.finditer(d))
	return d


def m_truncate(rng, d):
	return d[:rng.randrange(len(d) + 1)]


def m_huge(rng, d):
	l = lines_of(d)
	i = rng.randrange(len(l))
	fill = rng.choice([b"A", b"9", b";x=y", b"%41", b" "]) * rng.choice([300, 5000, 70000])
	l[i] = l[i] + fill
	return b"\r\n".join(l)


def m_content_length(rng, d):
	v = rng.choice(["0", "1", "-1", "99999", "4294967296", "abc", "", "5 5"]).encode()
	return re.sub(rb"(?m)^(Content-Length|l):[^\r\n]*", b"Content-Length: " + v, d, count=1)


def m_sdp_line(rng, d):
	l = lines_of(d)
	idx = [i for i, x in enumerate(l) if len(x) > 1 and x[1:2] == b"="]
	if not idx:
		return d
	i = rng.choice(idx)
	k = rng.randrange(4)
	if k == 0:
		new = "m=%s %s %s %s" % (rng.choice(["audio", "video", "x", ""]),
			rng.choice(SDP_PORTS), rng.choice(SDP_PROTOS), rng.choice(SDP_FMTS))
	elif k == 1:
		new = "a=fw-window:%s %s" % (rng.choice(["127.0.0.1", "198.51.100.2", "::1", "x", ""]),
			rng.choice(SDP_PORTS))
	elif k == 2:
		new = "c=IN %s %s" % (rng.choice(["IP4", "IP6", "X"]),
			rng.choice(["127.0.0.1", "224.2.1.1/127/3", "::1", "", "1.2.3"]))
	else:
		new = "%s=%s" % (rng.choice("vosctmabkiuezr"), rng.choice(INTERESTING))
	l[i] = new.rstrip().encode("latin-1") if rng.random() < 0.8 else new.encode("latin-1")
	return b"\r\n".join(l)


def m_bare_lf(rng, d):
	return d.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\n\r\n", b"\r\n "]), rng.randrange(1, 20))


def m_random(rng, d):
	return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))


MUTATORS = [
	(m_flip, 8), (m_insert_bytes, 4), (m_delete_line, 8), (m_dup_line, 8), (m_repeat_line, 3),
	(m_swap_lines, 3), (m_insert_header, 12), (m_replace_token, 14), (m_truncate, 5),
	(m_huge, 3), (m_content_length, 4), (m_sdp_line, 8), (m_bare_lf, 2), (m_random, 1),
]
MUT_FUNCS = [m for m, _ in MUTATORS]
MUT_WEIGHTS = [w for _, w in MUTATORS]


def fix_length(d):
	i = d.find(b"\r\n\r\n")
	if i < 0:
		return d
	n = len(d) - i - 4
	return re.sub(rb"(?m)^(Content-Length|l):[^\r\n]*", b"Content-Length: %d" % n, d[:i], count=1) + d[i:]


def mutate(rng, d, binary=False):
	for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
		if binary:
			f = rng.choice([m_flip, m_insert_bytes, m_truncate, m_random, m_flip])
		else:
			f = rng.choices(MUT_FUNCS, MUT_WEIGHTS)[0]
		d = f(rng, d)
	if not binary and rng.random() < 0.6:
		d = fix_length(d)
	return d[:MAX_INPUT]


# ---------------------------------------------------------------- SIP parsing

def split_msgs(buf):
	"""Complete messages at the start of a TCP buffer; the rest."""
	out = []
	for _ in range(64):
		while buf[:2] == b"\r\n":
			buf = buf[2:]
		i = buf.find(b"\r\n\r\n")
		if i < 0:
			break
		m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", buf[:i])
		n = int(m.group(1)) if m else 0
		if len(buf) < i + 4 + n:
			break
		out.append(buf[:i + 4 + n])
		buf = buf[i + 4 + n:]
	if len(buf) > 1 << 20:
		buf = b""
	return out, buf


def headers(msg, name, short=None):
	head = msg.split(b"\r\n\r\n", 1)[0].decode("latin-1", "replace").split("\r\n")
	names = {name.lower()} | ({short} if short else set())
	return [l.split(":", 1)[1].strip() for l in head[1:]
		if ":" in l and l.split(":", 1)[0].strip().lower() in names]


# ---------------------------------------------------------------- the fuzzer

class Failure(Exception):
	pass


class Conn:
	def __init__(self, sock, cid, role):
		self.sock, self.id, self.role, self.buf = sock, cid, role, b""
		self.port = sock.getsockname()[1]


class Fuzzer:
	def __init__(self, a):
		self.a = a
		self.seed = a.seed
		self.rng = random.Random(a.seed)
		self.port = a.port
		self.stun_port = a.port + 2
		self.proc = None
		self.log_off = 0
		self.events = []
		self.ev_seq = 0
		self.conns = {}          # fd -> Conn (client and callee TCP connections)
		self.client_ids = {}     # client connection id -> Conn
		self.next_conn = 1
		self.recent = collections.deque(maxlen=KEEP_INPUTS)
		self.answers = collections.deque(maxlen=KEEP_INPUTS)
		self.invites = collections.deque(maxlen=20)
		self.dialogs = collections.deque(maxlen=20)
		self.found = {}          # signature -> saved file
		self.inputs = 0
		self.refused = False
		self.t0 = time.monotonic()

	# ---- pinholed

	def start(self):
		os.makedirs(self.a.out, exist_ok=True)
		self.log_path = os.path.join(self.a.out, "pinholed-%d.log" % self.seed)
		env = dict(os.environ)
		env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=0"
		env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
		if self.a.sendcap:
			# every byte pinholed sends, for sipcheck (tests/sipp/sendcap.c)
			env["LD_PRELOAD"] = self.a.sendcap
			env["SENDCAP_FILE"] = os.path.join(self.a.out, "sent-%d.cap" % self.seed)
			env["ASAN_OPTIONS"] += ":verify_asan_link_order=0"
		self.log = open(self.log_path, "ab")
		self.log_off = self.log.tell()
		self.run_off = self.log_off
		self.proc = subprocess.Popen([self.a.pinholed, "-f", "-o", "listen=" + HOST,
			"-o", "sip_port=%d" % self.port, "-o", "stun_port=%d" % self.stun_port,
			"-o", "relay_ports=40000-40999", "-o", "log_level=" + self.a.log_level,
			"-o", "store_path=" + os.path.join(self.a.out, "bindings-%d.db" % self.seed),
			# its inputs, not their rate: every one from 127.0.0.1
			"-o", "max_requests_per_source=0", "-o", "max_tcp_per_source=0"],
			stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env)
		for _ in range(150):
			if " ready: " in self.read_log(self.run_off):
				return
			if self.proc.poll() is not None:
				break
			time.sleep(0.1)
		raise SystemExit("net_fuzz: pinholed did not start; its log: " + self.log_path)

	def read_log(self, off, limit=1 << 22):
		with open(self.log_path, "rb") as f:
			f.seek(off)
			return f.read(limit).decode("latin-1")

	def stop(self):
		if self.proc and self.proc.poll() is None:
			self.proc.terminate()
			try:
				self.proc.wait(5)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		if self.proc and not self.log.closed:
			self.log.close()

	def rss_kb(self):
		try:
			with open("/proc/%d/statm" % self.proc.pid) as f:
				return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
		except (OSError, ValueError, IndexError):
			return 0

	# ---- sockets

	def udp(self, port):
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
		s.bind((HOST, port))
		s.setblocking(False)
		return s

	def open_sockets(self):
		p = self.port
		self.cu = self.udp(p + 20)      # the client's UDP socket
		self.ca = self.udp(p + 21)      # callee A
		self.cb = self.udp(p + 22)      # callee B
		self.su = self.udp(p + 24)      # STUN
		self.tl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		self.tl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		self.tl.bind((HOST, p + 23))    # callee T: pinholed connects to it
		self.tl.listen(16)
		self.tl.setblocking(False)
		self.udps = [self.cu, self.ca, self.cb, self.su]

	def connect(self):
		"""A new client connection to pinholed, or None."""
		try:
			s = socket.create_connection((HOST, self.port), timeout=2)
		except OSError:
			return None
		s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
		s.setblocking(False)
		c = Conn(s, self.next_conn, "client")
		self.next_conn += 1
		self.conns[s.fileno()] = c
		self.client_ids[c.id] = c
		return c

	def close_conn(self, c, rst=False):
		if c.sock.fileno() < 0:
			return
		self.conns.pop(c.sock.fileno(), None)
		self.client_ids.pop(c.id, None)
		try:
			if rst:
				c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
			c.sock.close()
		except OSError:
			pass

	def send_conn(self, c, data):
		if c.sock.fileno() < 0:
			return
		try:
			c.sock.send(data)
		except OSError:
			self.close_conn(c)

	def drop_conns(self):
		for c in list(self.conns.values()):
			self.close_conn(c)

	# ---- scheduled events

	def later(self, delay, fn):
		self.ev_seq += 1
		heapq.heappush(self.events, (time.monotonic() + delay, self.ev_seq, fn))

	def run_due(self):
		now = time.monotonic()
		for _ in range(1000):
			if not self.events or self.events[0][0] > now:
				return
			fn = heapq.heappop(self.events)[2]
			fn()

	# ---- receiving

	def pump(self, until):
		"""Read and answer what arrives, run due events, until the time."""
		for _ in range(10000):
			self.run_due()
			now = time.monotonic()
			if now >= until:
				return
			wait = until - now
			if self.events:
				wait = max(0.0, min(wait, self.events[0][0] - now))
			rl = self.udps + [self.tl] + [c.sock for c in self.conns.values()]
			r, _, _ = select.select(rl, [], [], wait)
			for s in r:
				self.readable(s)

	def readable(self, s):
		if s is self.tl:
			try:
				ns, _ = s.accept()
			except OSError:
				return
			ns.setblocking(False)
			c = Conn(ns, 0, "callee")
			self.conns[ns.fileno()] = c
			return
		if s.type == socket.SOCK_DGRAM:
			for _ in range(64):
				try:
					data, addr = s.recvfrom(65536)
				except OSError:
					return
				if s is not self.su and addr[0].startswith("127."):
					self.message(data, s, addr, None)
			return
		c = self.conns.get(s.fileno())
		if c is None:
			return
		try:
			data = s.recv(65536)
		except OSError:
			data = b""
		if not data:
			self.close_conn(c)
			return
		msgs, c.buf = split_msgs(c.buf + data)
		for m in msgs:
			self.message(m, s, None, c)

	def message(self, m, sock, addr, conn):
		if m.startswith(b"SIP/2.0 2"):
			cseq = headers(m, "CSeq")
			if cseq and cseq[0].endswith("INVITE"):
				self.dialog(m)
			return
		if m.startswith(b"SIP/2.0") or b" SIP/2.0\r\n" not in m[:300]:
			return
		self.callee(m, sock, addr, conn)

	def dialog(self, m):
		to, cid, frm = headers(m, "To", "t"), headers(m, "Call-ID", "i"), headers(m, "From", "f")
		ct = headers(m, "Contact", "m")
		if to and cid and frm:
			rr = headers(m, "Record-Route")
			uri = re.search(r"<([^>]*)>", ct[0]) if ct else None
			self.dialogs.append({"to": to[0], "from": frm[0], "cid": cid[0],
				"rr": list(reversed(rr)), "uri": uri.group(1) if uri else None})

	# ---- the callees

	def callee(self, m, sock, addr, conn):
		line = m.split(b"\r\n", 1)[0].decode("latin-1", "replace")
		method = line.split(" ", 1)[0]
		cid, cseq = headers(m, "Call-ID", "i"), headers(m, "CSeq")
		if method == "ACK":
			return
		port = conn.port if conn else sock.getsockname()[1]
		crng = random.Random("%d/%s/%s/%s/%d" % (self.seed, cid, cseq, method, port))
		vias = headers(m, "Via", "v")
		base = ["Via: " + v for v in vias]
		for h, s in (("From", "f"), ("To", "t"), ("Call-ID", "i"), ("CSeq", None)):
			vals = headers(m, h, s)
			if vals:
				v = vals[0]
				if h == "To" and ";tag=" not in v:
					v += ";tag=c%d" % crng.randrange(1 << 30)
				base.append("%s: %s" % (h, v))
		base += ["Record-Route: " + r for r in headers(m, "Record-Route")]
		tr = ";transport=tcp" if conn else ""
		base.append("Contact: <sip:callee@127.0.0.1:%d%s>" % (port, tr))
		plan = []
		d = lambda: ms(crng.choice([0, 0, 5, 20, 60, 150, 400]))
		if method == "INVITE":
			if crng.random() < 0.5:
				plan.append((0, "100 Trying"))
			if crng.random() < 0.6:
				plan.append((d(), "180 Ringing"))
			final = crng.choice(["200 OK"] * 5 + ["486 Busy Here", "603 Decline", "500 Oops", "302 Moved"])
			plan.append((d(), final))
			if crng.random() < 0.25:
				plan.append((d(), final))
		elif method == "MESSAGE":
			final = crng.choice(["200 OK"] * 4 + ["202 Accepted", "486 Busy Here", "500 Oops"])
			plan.append((d(), final))
			if crng.random() < 0.3:
				plan.append((d(), final))
		elif method == "CANCEL":
			plan.append((0, "200 OK"))
		else:
			plan.append((d(), "200 OK"))
		close_at = crng.randrange(len(plan) + 1) if conn and crng.random() < 0.1 else None
		t = 0.0
		for i, (delay, status) in enumerate(plan):
			t += delay
			head = ["SIP/2.0 " + status] + base
			if method == "INVITE" and status.startswith("2"):
				data = with_body(head, sdp(crng, 41002), "application/sdp")
			else:
				data = with_body(head, "", None)
			if crng.random() < 0.2:
				data = mutate(crng, data)
			if close_at == i:
				self.later(t, lambda c=conn: self.close_conn(c))
			self.later(t, lambda data=data: self.answer(data, sock, addr, conn))

	def answer(self, data, sock, addr, conn):
		self.answers.append({"t": round(time.monotonic() - self.t0, 4),
			"answer": data.decode("latin-1")[:300], "tr": "tcp" if conn else "udp"})
		if conn:
			self.send_conn(conn, data)
		else:
			try:
				sock.sendto(data, addr)
			except OSError:
				pass

	# ---- generating inputs

	def users(self):
		return ["fa", "fb", "ft", "fr", "fm", "nobody"]

	def common(self, method, ruri, tr, lport, frm, to, cid, branch, cseq, tag):
		return ["%s %s SIP/2.0" % (method, ruri),
			"Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK%s;rport" % (tr.upper(), lport, branch),
			"Max-Forwards: 70", "From: <sip:%s@example.com>;tag=%s" % (frm, tag),
			"To: <sip:%s@example.com>" % to, "Call-ID: %s" % cid, "CSeq: %d %s" % (cseq, method)]

	def register_msg(self, rng, user, contact, tr, lport, fw):
		"""fw: True for a Firewall-Window of any kind, a string for that one."""
		p = self.port
		head = self.common("REGISTER", "sip:127.0.0.1:%d" % p, tr, lport, user, user,
			"reg-%s-%d@fz" % (user, rng.randrange(1 << 30)), rng.randrange(1 << 40),
			rng.randrange(1, 1 << 20), "r%d" % rng.randrange(1 << 30))
		head.append("Contact: " + contact)
		if fw:
			head.append(fw if isinstance(fw, str) else fw_header(rng))
		head.append("Expires: %s" % rng.choice(["600", "600", "600", "60", "0", "7200", "86400"]))
		return with_body(head, "", None)

	def gen(self, rng, tr, lport):
		"""One SIP message for the transport and local port."""
		p = self.port
		r = rng.random
		user = rng.choice(self.users())
		cid = "%d-%d@fuzz" % (self.seed, rng.randrange(1 << 40))
		branch = rng.randrange(1 << 40)
		tag = "t%d" % rng.randrange(1 << 30)
		kind = rng.choices(["REGISTER", "INVITE", "OPTIONS", "MESSAGE", "CANCEL", "ACK", "BYE",
			"response", "other", "garbage"], [16, 20, 8, 16, 8, 6, 6, 6, 4, 2])[0]
		ct = "<sip:caller@127.0.0.1:%d%s>" % (lport, ";transport=tcp" if tr == "tcp" else "")
		if kind == "REGISTER":
			contact = rng.choice([
				"<sip:%s@127.0.0.1:%d>" % (user, p + 21), "<sip:%s@127.0.0.1:%d>" % (user, p + 22),
				"<sip:%s@127.0.0.1:%d;transport=tcp>" % (user, p + 23), ct,
				"<sip:%s@203.0.113.9:5060>" % user, "<sip:%s@[2001:db8::1]:5060>" % user,
				"*", "<sip:%s@127.0.0.1:%d>;expires=0" % (user, p + 21)])
			return self.register_msg(rng, rng.choice(["fa", "fb", "fm", "fx", "fy"]), contact,
				tr, lport, rng.random() < 0.5)
		if kind == "INVITE":
			head = self.common("INVITE", "sip:%s@example.com" % user, tr, lport, "caller", user,
				cid, branch, 1, tag) + ["Contact: " + ct]
			if r() < 0.5:
				head.append(fw_header(rng))
			self.invites.append((cid, branch, tag, user, tr))
			return with_body(head, sdp(rng), "application/sdp")
		if kind == "OPTIONS":
			ruri = "sip:127.0.0.1:%d" % p if r() < 0.5 else "sip:%s@example.com" % user
			return with_body(self.common("OPTIONS", ruri, tr, lport, "caller", user, cid,
				branch, 1, tag), "", None)
		if kind == "MESSAGE":
			return with_body(self.common("MESSAGE", "sip:%s@example.com" % user, tr, lport,
				"caller", user, cid, branch, rng.randrange(1, 100), tag),
				"hello %d" % rng.randrange(1000), "text/plain")
		if kind == "CANCEL" and self.invites:
			cid, branch, tag, user, _ = rng.choice(self.invites)
			return with_body(self.common("CANCEL", "sip:%s@example.com" % user, tr, lport,
				"caller", user, cid, branch, 1, tag), "", None)
		if kind in ("ACK", "BYE") and self.dialogs and r() < 0.8:
			dl = rng.choice(self.dialogs)
			head = ["%s %s SIP/2.0" % (kind, dl["uri"] or "sip:fa@example.com"),
				"Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK%d;rport" % (tr.upper(), lport, branch),
				"Max-Forwards: 70", "From: " + dl["from"], "To: " + dl["to"],
				"Call-ID: " + dl["cid"], "CSeq: %d %s" % (1 if kind == "ACK" else 2, kind)]
			head += ["Route: " + x for x in dl["rr"]]
			return with_body(head, "", None)
		if kind in ("ACK", "BYE", "CANCEL"):
			head = self.common(kind, "sip:%s@example.com" % user, tr, lport, "caller", user,
				cid, branch, 1, tag) + ["Route: <sip:127.0.0.1:%d;lr>" % p]
			return with_body(head, "", None)
		if kind == "response":
			status = rng.choice(["100 Trying", "180 Ringing", "200 OK", "487 Terminated", "603 No"])
			head = ["SIP/2.0 " + status,
				"Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK%d" % (tr.upper(), p, branch),
				"From: <sip:caller@example.com>;tag=" + tag,
				"To: <sip:%s@example.com>;tag=x%d" % (user, branch), "Call-ID: " + cid,
				"CSeq: 1 %s" % rng.choice(["INVITE", "MESSAGE", "OPTIONS", "BYE"])]
			return with_body(head, "", None)
		if kind == "other":
			method = rng.choice(["SUBSCRIBE", "NOTIFY", "INFO", "UPDATE", "PRACK", "REFER",
				"PUBLISH", "XYZZY"])
			return with_body(self.common(method, "sip:%s@example.com" % user, tr, lport,
				"caller", user, cid, branch, 1, tag) + ["Contact: " + ct, "Event: presence"],
				"", None)
		return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) if r() < 0.5 \
			else b"\r\n" * rng.randrange(1, 5)

	def next_input(self):
		"""One input, as a record that send() plays (and --replay again)."""
		rng = self.rng
		x = rng.random()
		if x < 0.08:
			d = stun_msg(rng)
			if rng.random() < 0.3:
				d = mutate(rng, d, binary=True)
			dst = rng.choice([self.stun_port, self.stun_port, self.stun_port + 1, self.port,
				self.stun_port + 2 + rng.randrange(8)])
			return {"tr": "stun", "dst": dst, "chunks": [d]}
		if x < 0.60:
			d = self.gen(rng, "udp", self.cu.getsockname()[1])
			if rng.random() < 0.75:
				d = mutate(rng, d)
			return {"tr": "udp", "dst": self.port, "chunks": [d]}
		# TCP: a new connection or one still open
		if not self.client_ids or rng.random() < 0.3 or len(self.client_ids) < 2:
			c = self.connect()
			if c is None:   # refused: the next check says why
				self.refused = True
				return {"tr": "udp", "dst": self.port, "chunks": [b"\r\n"]}
			if len(self.client_ids) > MAX_CONNS:
				self.close_conn(self.client_ids[min(self.client_ids)])
		else:
			c = self.client_ids[rng.choice(sorted(self.client_ids))]
		d = self.gen(rng, "tcp", c.port) if rng.random() < 0.97 else b"\r\n\r\n"
		if rng.random() < 0.75:
			d = mutate(rng, d)
		chunks, mode = [d], rng.random()
		if mode < 0.25 and len(d) > 2:
			cuts = sorted(rng.sample(range(1, len(d)), min(len(d) - 1, rng.randrange(1, 5))))
			chunks = [d[i:j] for i, j in zip([0] + cuts, cuts + [len(d)])]
		elif mode < 0.33:
			chunks = [d[:rng.randrange(len(d) + 1)]]
		y = rng.random()
		close = "fin" if y < 0.15 else "rst" if y < 0.2 else None
		return {"tr": "tcp", "conn": c.id, "chunks": chunks, "gap_ms": rng.choice([0, 1, 10, 40]),
			"close": close}

	def note(self, rec):
		rec["t"] = round(time.monotonic() - self.t0, 4)
		self.recent.append(rec)

	def send(self, rec):
		rec["n"] = self.inputs
		self.note(dict(rec, chunks=[base64.b64encode(x).decode() for x in rec["chunks"]]))
		if rec["tr"] in ("udp", "stun"):
			s = self.cu if rec["tr"] == "udp" else self.su
			try:
				s.sendto(rec["chunks"][0], (HOST, rec["dst"]))
			except OSError:
				pass
			return
		c = self.client_ids.get(rec["conn"])
		if c is None:
			return
		t = 0.0
		for ch in rec["chunks"]:
			self.later(t, lambda ch=ch: self.send_conn(c, ch))
			t += ms(rec["gap_ms"])
		if rec["close"]:
			self.later(t, lambda: self.close_conn(c, rst=rec["close"] == "rst"))

	# ---- setup and checks

	def register_callees(self):
		"""The users the inputs call: fa at A, fb at A and B (a fork), ft at
		T over TCP, fm at A and T, fr on a client connection of its own."""
		p, rng = self.port, random.Random(self.seed)
		lp = self.cu.getsockname()[1]
		fw = "Firewall-Window: 198.51.100.129;mapping=eim;filtering=apdf;hops=2;lifetime=30"
		for user, port, tr in (("fa", p + 21, ""), ("fb", p + 21, ""), ("fb", p + 22, ""),
				("ft", p + 23, ";transport=tcp"), ("fm", p + 21, ""),
				("fm", p + 23, ";transport=tcp")):
			m = self.register_msg(rng, user, "<sip:%s@127.0.0.1:%d%s>" % (user, port, tr),
				"udp", lp, fw if user != "fm" else None)
			m = m.replace(b"Expires: 0\r\n", b"Expires: 600\r\n")
			self.cu.sendto(m, (HOST, self.port))
		fr = getattr(self, "fr", None)
		self.last_reg = time.monotonic()
		if fr is None or fr.sock.fileno() < 0:
			fr = self.fr = self.connect()
			if fr is None:
				return
			self.client_ids.pop(fr.id, None)   # not one the inputs use
		m = self.register_msg(rng, "fr", "<sip:fr@127.0.0.1:%d;transport=tcp>" % fr.port,
			"tcp", fr.port, fw).replace(b"Expires: 0\r\n", b"Expires: 600\r\n")
		self.send_conn(fr, m)

	def alive(self):
		"""None, or why pinholed is not well."""
		rc = self.proc.poll()
		text = self.read_log(self.log_off)
		self.log_off += len(text.encode("latin-1"))
		if SAN_RE.search(text):
			return "sanitizer report"
		if rc is not None:
			if rc < 0:
				return "pinholed died (%s)" % signal.Signals(-rc).name
			return "pinholed exited (status %d)" % rc
		if self.rss_kb() > RSS_LIMIT_KB:
			return "memory runaway (RSS %d MB)" % (self.rss_kb() // 1024)
		return None

	def liveness(self):
		why = self.alive()
		if why:
			return why
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((HOST, 0))
		try:
			lp = s.getsockname()[1]
			b = "z9hG4bKlive%d" % self.inputs
			msg = crlf(["OPTIONS sip:%s:%d SIP/2.0" % (HOST, self.port),
				"Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (HOST, lp, b), "Max-Forwards: 70",
				"From: <sip:live@example.com>;tag=live", "To: <sip:127.0.0.1:%d>" % self.port,
				"Call-ID: live-%d@fuzz" % self.inputs, "CSeq: 1 OPTIONS", "Content-Length: 0", ""])
			end = time.monotonic() + LIVE_TIMEOUT
			resend, answered = 0.0, False
			for _ in range(100):
				now = time.monotonic()
				if answered or now >= end:
					break
				if now >= resend:
					s.sendto(msg, (HOST, self.port))
					resend = now + 0.5
				r, _, _ = select.select([s], [], [], max(0.0, min(end, resend) - now))
				if r:
					data = s.recv(65536)
					answered = data.startswith(b"SIP/2.0 200") and b.encode() in data
			if not answered:
				return self.alive() or "hang: no answer to OPTIONS within %.0f s" % LIVE_TIMEOUT
		finally:
			s.close()
		self.last_live = time.monotonic()
		return None

	# ---- failures

	def signature(self, why):
		text = self.read_log(self.run_off, 1 << 24)
		m = re.search(r"ERROR: AddressSanitizer: ([\w-]+)|(\S+: runtime error: [^\n]*)", text)
		if not m:
			a = re.search(r"Assertion [^\n]* failed", text[-3000:])
			return (why + ": " + a.group(0)) if a else why, text[-3000:]
		rep = text[m.start():]
		frames = [f for f in re.findall(r"#\d+ 0x[0-9a-f]+ in (\S+)", rep[:20000])
			if not re.match(r"(__|printf_common)", f)][:4]
		kind = m.group(1) or re.sub(r"^.*/", "", m.group(2))
		head = "hang, stack at SIGSEGV sent: " if why.startswith("hang") else ""
		return head + kind + " in " + " < ".join(frames), rep[:12000]

	def fail(self, why):
		if why.startswith(("hang", "memory")) and self.proc.poll() is None:
			# where is it stuck: ASan prints the stack of a SEGV it gets
			self.proc.send_signal(signal.SIGSEGV)
			try:
				self.proc.wait(5)
			except subprocess.TimeoutExpired:
				pass
		try:
			self.proc.wait(5)   # a sanitizer report is being written
		except subprocess.TimeoutExpired:
			self.proc.kill()
			self.proc.wait()
		sig, report = self.signature(why)
		if sig in self.found:   # --keep-going: counted, not saved again
			self.found[sig][1] += 1
			print("FAIL: %s after %d inputs: %s (seen before)" % (why, self.inputs, sig))
			sys.stdout.flush()
			return
		path = os.path.join(self.a.out, "crash-%d-%d.jsonl" % (self.seed, self.inputs))
		with open(path, "w") as f:
			f.write(json.dumps({"seed": self.seed, "port": self.port, "inputs": self.inputs,
				"why": why, "signature": sig}) + "\n")
			for rec in sorted(list(self.recent) + list(self.answers), key=lambda r: r["t"]):
				f.write(json.dumps(rec) + "\n")
		with open(path[:-len(".jsonl")] + ".log", "w") as f:
			f.write(report)
		self.found[sig] = [path, 1]
		print("FAIL: %s after %d inputs (%.1f s): %s" % (why, self.inputs,
			time.monotonic() - self.t0, sig))
		print("  last %d inputs: %s" % (len(self.recent), path))
		print("  report: %s" % path[:-len(".jsonl")] + ".log")
		print("  repeat: FUZZ_NET_SEED=%d, or replay with net_fuzz.py --replay %s" % (self.seed, path))
		sys.stdout.flush()

	def restart(self):
		self.log.close()
		self.drop_conns()
		self.fr = None
		self.events = []
		self.recent.clear()
		self.answers.clear()
		self.invites.clear()
		self.dialogs.clear()
		self.start()
		self.register_callees()
		self.pump(time.monotonic() + 0.3)

	# ---- the run

	def run(self):
		print("net_fuzz: seed %d (FUZZ_NET_SEED=%d repeats it), %d s, at most %d inputs, "
			"%d/s" % (self.seed, self.seed, self.a.seconds, self.a.max_inputs, self.a.rate))
		sys.stdout.flush()
		self.start()
		self.open_sockets()
		self.register_callees()
		self.pump(time.monotonic() + 0.3)
		self.last_live = time.monotonic()
		deadline = self.t0 + self.a.seconds
		gap = 1.0 / self.a.rate
		failures = 0
		while self.inputs < self.a.max_inputs and time.monotonic() < deadline:
			self.send(self.next_input())
			self.inputs += 1
			self.pump(time.monotonic() + gap)
			why = None
			if self.inputs % LIVE_EVERY == 0 or time.monotonic() - self.last_live > LIVE_MAX_GAP:
				why = self.liveness()
			elif self.inputs % 20 == 0 or self.refused:
				why = self.alive() or ("pinholed refuses TCP connections" if self.refused else None)
				self.refused = False
			if not why and time.monotonic() - self.last_reg > REGISTER_EVERY:
				self.register_callees()
			if why:
				failures += 1
				self.fail(why)
				if not self.a.keep_going or failures >= 200:
					break
				self.restart()
		else:
			self.pump(time.monotonic() + 0.5)
			why = self.liveness()
			if why:
				failures += 1
				self.fail(why)
		self.stop()
		if not failures:   # nothing to look at
			os.remove(self.log_path)
			try:
				os.rmdir(self.a.out)
			except OSError:
				pass
		print("net_fuzz: %d inputs in %.1f s, %d failure(s), %d distinct" % (self.inputs,
			time.monotonic() - self.t0, failures, len(self.found)))
		for sig, (path, n) in self.found.items():
			print("  %dx %s\n     %s" % (n, sig, path))
		return 1 if failures else 0

	def replay(self, path):
		with open(path) as f:
			recs = [json.loads(l) for l in f if l.strip()]
		head, recs = recs[0], [r for r in recs[1:] if "chunks" in r]
		print("net_fuzz: replaying %d inputs from %s (%s)" % (len(recs), path, head.get("signature")))
		self.start()
		self.open_sockets()
		self.register_callees()
		self.pump(time.monotonic() + 0.3)
		conns = {}
		t_first = recs[0]["t"] if recs else 0
		start = time.monotonic()
		why = None
		for rec in recs:
			self.pump(start + rec["t"] - t_first)
			rec = dict(rec, chunks=[base64.b64decode(x) for x in rec["chunks"]])
			if rec["tr"] == "tcp":
				c = conns.get(rec["conn"])
				if c is None or c.sock.fileno() < 0:
					c = conns[rec["conn"]] = self.connect()
				if c is None:
					break
				rec["conn"] = c.id
			self.send(rec)
			self.inputs += 1
		self.pump(time.monotonic() + 1.0)
		why = self.liveness()
		if why:
			self.fail(why)
		else:
			print("net_fuzz: replay: pinholed is well (not reproduced)")
		self.stop()
		return 1 if why else 0


def main():
	ap = argparse.ArgumentParser(description="network fuzzer for pinholed (loopback only)")
	ap.add_argument("--pinholed", required=True)
	ap.add_argument("--seconds", type=float, default=600)
	ap.add_argument("--max-inputs", type=int, default=1000000)
	ap.add_argument("--seed", type=int, default=None)
	ap.add_argument("--rate", type=int, default=250, help="inputs per second at most")
	ap.add_argument("--port", type=int, default=15060)
	ap.add_argument("--out", default="fuzz-net-out")
	ap.add_argument("--log-level", default="info")
	ap.add_argument("--keep-going", action="store_true",
		help="after a failure, restart pinholed and go on (to find more than one)")
	ap.add_argument("--replay", metavar="FILE")
	ap.add_argument("--sendcap", metavar="SO",
			help="preload this sendcap.so into pinholed (OUT/sent-SEED.cap)")
	a = ap.parse_args()
	if not only_loopback():
		print("net_fuzz: refusing to run: this network namespace has interfaces besides lo "
			"(run it through tests/fuzz/net.sh, which makes a private one)")
		return 2
	if a.seed is None:
		a.seed = int.from_bytes(os.urandom(4), "big")
	if a.replay:
		with open(a.replay) as f:
			head = json.loads(f.readline())
		a.seed, a.port = head["seed"], head["port"]
	fz = Fuzzer(a)
	try:
		return fz.replay(a.replay) if a.replay else fz.run()
	finally:
		fz.stop()


if __name__ == "__main__":
	sys.exit(main())
