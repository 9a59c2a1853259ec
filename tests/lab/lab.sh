# tests/lab/lab.sh: the NAT lab. Firewalls and NATs in network namespaces
# that the test creates and removes itself; sourced by the lab tests.
#
#   srv (pinholed) 203.0.113.1, .2 ---- core router ---- side A ---- side B
#
# Each side is one of the kinds below; its host is "a" or "b":
#   open     the host sits on the public network itself, no firewall
#   fw       a router with a stateful firewall, the host has a public address
#   nat      masquerade (EIM, APDF), router input from the WAN dropped
#   natopen  the same NAT, but the router answers unsolicited input (ICMP),
#            so an early packet from outside takes the host's port
#   sym      masquerade with random ports per connection (APDM)
# A packet from a host needs TTL 2 to pass its own router (fw, nat,
# natopen, sym) and dies at the core router at TTL 2: so hops = 2 there,
# and 1 for open (nothing to open). Addresses exist only in the lab's
# namespaces; the root namespace gets no interface, no route and no rule.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
LAB=ph$$
LAB_DIR=$(mktemp -d /tmp/ph-lab.XXXXXX)
LAB_PIDS=
LAB_NS=
LAB_SRV_IP=203.0.113.1
LAB_SRV_ALT=203.0.113.2

# Every pair of kinds (caller callee) that PROTOCOL.md section 5 calls direct.
LAB_DIRECT_PAIRS="open:open open:fw open:nat open:natopen fw:open fw:fw fw:nat fw:natopen
	nat:open nat:fw nat:nat nat:natopen natopen:open natopen:fw natopen:nat
	natopen:natopen sym:open open:sym"

# A test that cannot run skips (exit 77), saying why; with PH_REQUIRE_ALL=1
# (.ci/run sets it: CI runs as root with everything installed) it fails.
lab_skip() {
	if [ "${PH_REQUIRE_ALL:-0}" != 0 ]; then
		echo "FAIL: cannot run, and PH_REQUIRE_ALL is set: $*"; exit 1
	fi
	echo "SKIP: $*"; exit 77
}

# lab_list VAR DEFAULT [ALL]: the pairs in the environment variable VAR;
# DEFAULT when it is unset, empty or blank (an empty list would silently
# drop the section); ALL when it says "all". A list that narrows the run
# says so, and fails with PH_REQUIRE_ALL set: CI runs every section.
lab_list() {
	local v
	eval "v=\${$1:-}"
	v=$(echo $v)
	if [ -z "$v" ]; then
		echo "$2"
	elif [ "$v" = all ] && [ $# -ge 3 ]; then
		echo "$3"
	elif [ "${PH_REQUIRE_ALL:-0}" != 0 ]; then
		echo "FAIL: $1=$v narrows the run, and PH_REQUIRE_ALL is set" >&2
		return 1
	else
		echo "note: $1=$v: only those pairs" >&2
		echo "$v"
	fi
}

lab_field() { # JSON KEY: a value from a one-line JSON report
	echo "$1" | sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

# lab_both_got MIN REPORT...: every pinhole-call report says it received at
# least MIN packets
lab_both_got() {
	local min=$1 r
	shift
	for r in "$@"; do
		[ "${r#*\"received\":}" != "$r" ] && [ "$(lab_field "$r" received)" -ge "$min" ] ||
			return 1
	done
}

lab_require() {
	[ "$(id -u)" = 0 ] || lab_skip "the NAT lab needs root (network namespaces)"
	command -v ip >/dev/null || lab_skip "iproute2 not installed"
	command -v nft >/dev/null || lab_skip "nftables not installed"
	ip netns add "${LAB}probe" 2>/dev/null || lab_skip "cannot create network namespaces here"
	ip netns del "${LAB}probe"
}

# Every lab goes away, whatever happens to the test.
lab_down() {
	for p in $LAB_PIDS; do kill "$p" 2>/dev/null; done
	for p in $LAB_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	LAB_PIDS=
	for ns in $LAB_NS; do ip netns del "$ns" 2>/dev/null; done
	LAB_NS=
}
trap 'lab_down; rm -rf "$LAB_DIR"' EXIT
trap 'exit 130' INT TERM

lab_ns() { # NAME: create a namespace with loopback up
	ip netns add "$LAB$1" || return 1
	LAB_NS="$LAB_NS $LAB$1"
	ip -n "$LAB$1" link set lo up
}

lab_exec() { # NS CMD...: run in a lab namespace
	local ns=$1; shift
	ip netns exec "$LAB$ns" "$@"
}

lab_bg() { # NS LOG CMD...: run in the background, stopped by lab_down
	local ns=$1 log=$2; shift 2
	# emptied here, not by the background shell's redirection, which may
	# come after a wait on LOG already read the previous run's lines
	: >"$log"
	ip netns exec "$LAB$ns" "$@" >>"$log" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	LAB_LAST_PID=$!
}

lab_link() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair with addresses
	ip link add "$2" netns "$LAB$1" type veth peer name "$5" netns "$LAB$4" || return 1
	ip -n "$LAB$1" addr add "$3" dev "$2"
	ip -n "$LAB$4" addr add "$6" dev "$5"
	ip -n "$LAB$1" link set "$2" up
	ip -n "$LAB$4" link set "$5" up
}

lab_forward() { # NS: a router
	lab_exec "$1" sysctl -qw net.ipv4.ip_forward=1
}

# lab_side X KIND N: side X (a or b) of the given kind; N is 1 or 2.
# Sets LAB_<X>_IP (the host's own address) and LAB_<X>_PUBLIC.
lab_side() {
	local x=$1 kind=$2 n=$3 wan core lan host public X
	X=$(echo "$x" | tr a-z A-Z)
	wan=198.51.100.$(( n == 1 ? 1 : 129 ))
	core=198.51.100.$(( n == 1 ? 126 : 254 ))
	lab_ns "$x"
	if [ "$kind" = open ]; then
		lab_link core "c$x" "$core/25" "$x" wan "$wan/25"
		lab_exec "$x" ip route add default via "$core"
		eval "LAB_${X}_IP=$wan LAB_${X}_PUBLIC=$wan"
		return 0
	fi
	lab_ns "${x}r"
	lab_forward "${x}r"
	lab_link core "c$x" "$core/25" "${x}r" wan "$wan/25"
	lab_exec "${x}r" ip route add default via "$core"
	if [ "$kind" = fw ]; then
		lan=192.0.2.$(( n == 1 ? 1 : 129 ))
		host=192.0.2.$(( n == 1 ? 2 : 130 ))
		lab_link "${x}r" lan "$lan/25" "$x" eth0 "$host/25"
		lab_exec core ip route add "192.0.2.$(( n == 1 ? 0 : 128 ))/25" via "$wan"
		public=$host
	else
		lan=10.0.$n.1 host=10.0.$n.2
		lab_link "${x}r" lan "$lan/24" "$x" eth0 "$host/24"
		public=$wan
	fi
	lab_exec "$x" ip route add default via "$lan"
	lab_firewall "${x}r" "$kind" || return 1
	eval "LAB_${X}_IP=$host LAB_${X}_PUBLIC=$public"
}

lab_firewall() { # NS KIND: the router's nftables ruleset
	local nat input
	case $2 in
	fw) nat="" input="accept" ;;
	nat) nat="masquerade" input="drop" ;;
	natopen) nat="masquerade" input="accept" ;;
	sym) nat="masquerade random,fully-random" input="drop" ;;
	*) echo "unknown kind $2"; return 1 ;;
	esac
	lab_exec "$1" nft -f - <<NFT || return 1
table inet lab {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "lan" accept
	}
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "wan" ct state established,related accept
		iifname "wan" $input
	}
	chain post {
		type nat hook postrouting priority 100; policy accept;
		${nat:+oifname "wan" $nat}
	}
}
NFT
}

# The core router and pinholed's host.
lab_core() {
	lab_ns core && lab_ns srv || return 1
	lab_forward core
	lab_link core csrv 203.0.113.254/24 srv eth0 "$LAB_SRV_IP/24"
	lab_exec srv ip addr add "$LAB_SRV_ALT/24" dev eth0
	lab_exec srv ip route add default via 203.0.113.254
}

# lab_core_two: pinholed's host with two addresses on two links, one
# facing each side: the core reaches LAB_SRV_IP (X) over srv's eth0 and
# LAB_SRV_Y over eth1; srv routes side A's networks out of eth0 (source X)
# and side B's out of eth1 (source Y). A packet to side B that leaves from
# X, or to side A from Y, reaches its NAT from an address it never sent to:
# a filtering NAT (nat, sym) drops it. No reverse-path filter anywhere: a
# datagram from X may leave by eth1 (a socket bound to X sends it so).
lab_core_two() {
	lab_ns core && lab_ns srv || return 1
	lab_forward core
	LAB_SRV_Y=203.0.113.129
	lab_link core csrv 203.0.113.126/25 srv eth0 "$LAB_SRV_IP/25"
	lab_link core csrv2 203.0.113.254/25 srv eth1 "$LAB_SRV_Y/25"
	for ns in core srv; do
		lab_exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
	done
	lab_exec srv ip route add default via 203.0.113.126 src "$LAB_SRV_IP"
	for net in 198.51.100.0/25 192.0.2.0/25; do
		lab_exec srv ip route add "$net" via 203.0.113.126 src "$LAB_SRV_IP"
	done
	for net in 198.51.100.128/25 192.0.2.128/25; do
		lab_exec srv ip route add "$net" via 203.0.113.254 src "$LAB_SRV_Y"
	done
}

# lab_up_two KIND_A KIND_B: the lab with the two-address server.
lab_up_two() {
	lab_core_two && lab_side a "$1" 1 && lab_side b "$2" 2 || return 1
	lab_count_srv
}

# lab_up KIND_A KIND_B: the whole lab.
lab_up() {
	lab_core && lab_side a "$1" 1 && lab_side b "$2" 2 || return 1
	lab_count_srv
}

# Counts every UDP datagram pinholed's host gets apart from SIP, STUN and
# the hop test: media must never show up there.
lab_count_srv() {
	lab_exec srv nft -f - <<'NFT'
table inet count {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport != { 3478-3487, 5060 } counter name "other_udp"
	}
	counter other_udp { }
}
NFT
}

# lab_up_samenat KIND: hosts a (10.0.1.2) and b (10.0.3.2, a second LAN)
# behind one router of that kind.
lab_up_samenat() {
	lab_core && lab_side a "$1" 1 || return 1
	lab_ns b
	lab_link ar lanb 10.0.3.1/24 b eth0 10.0.3.2/24 || return 1
	lab_exec b ip route add default via 10.0.3.1
	lab_exec ar nft add rule inet lab forward iifname lanb accept
	LAB_B_IP=10.0.3.2 LAB_B_PUBLIC=$LAB_A_PUBLIC
	lab_count_srv
}

lab_srv_other_udp() { # datagrams pinholed's host got besides STUN
	lab_exec srv nft list counter inet count other_udp | awk '/packets/ { print $2 }'
}

# lab_start_pinholed [ARGS]: pinholed in srv, with the alternate address.
lab_start_pinholed() {
	lab_start_pinholed_as -o "listen=$LAB_SRV_IP" \
		-o "stun_alt_address=$LAB_SRV_ALT" "$@"
}

# lab_start_pinholed_as [ARGS]: pinholed in srv with only these options
# (listen at its default, every address, unless they say otherwise).
lab_start_pinholed_as() {
	# a store file of its own: a test that starts pinholed again for its
	# next case must not find the bindings of the last one
	lab_bg srv "$LAB_DIR/pinholed.log" "$top_builddir/registrar/pinholed" -f \
		-o "store_path=$(mktemp -u "$LAB_DIR/bindings.XXXXXX")" "$@"
	for _ in $(seq 1 50); do
		grep -q ' ready: ' "$LAB_DIR/pinholed.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "pinholed did not start:"; cat "$LAB_DIR/pinholed.log"
	return 1
}

# lab_module: the build's baresip module in MOD (the test skips when it was
# not built), and libpinhole from the build tree on LD_LIBRARY_PATH, for the
# module that baresip loads.
lab_module() {
	MOD=$top_builddir/plugin/baresip/.libs/pinhole.so
	[ -f "$MOD" ] || lab_skip "the baresip module was not built (configure found no baresip or libre)"
	LD_LIBRARY_PATH=$(cd "$top_builddir/media" && pwd)/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
}

lab_baresip_config() { # HOST DIR SERVER: baresip's config for lab host HOST
	# in DIR, from conf/baresip, with the build tree's module ($MOD) and
	# SERVER (host:port) as pinhole_server
	local ip m
	ip=$(eval echo "\$LAB_$(echo "$1" | tr a-z A-Z)_IP")
	mkdir -p "$2/modules"
	for m in /usr/lib/baresip/modules/*.so; do ln -sf "$m" "$2/modules/"; done
	ln -sf "$(cd "$(dirname "$MOD")" && pwd)/pinhole.so" "$2/modules/pinhole.so"
	sed -e "s|^sip_listen.*|sip_listen		$ip:5060|" \
	    -e "s|^net_interface.*|net_interface		$ip|" \
	    -e "s|^module_path.*|module_path		$2/modules|" \
	    -e "s|^pinhole_server.*|pinhole_server		$3|" \
	    "$top_srcdir/conf/baresip/config" >"$2/config"
}

# lab_wait_for SECONDS FILE PATTERN: until a line of FILE matches PATTERN
# (grep); 1, saying so, if none does within SECONDS.
lab_wait_for() {
	local i
	for i in $(seq 1 $(($1 * 10))); do
		grep -q -- "$3" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "(nothing matched '$3' in $(basename "$2") within $1 s)"
	return 1
}

# lab_wait_registered USER [SECONDS]: until pinholed (log_level=debug) has
# answered a REGISTER of USER 200 (5 s at most unless told).
lab_wait_registered() {
	lab_wait_for "${2:-5}" "$LAB_DIR/pinholed.log" "REGISTER $1@[^ ]* from [^ ]*: 200"
}

# lab_wait_pc_registered LOG [SECONDS]: until the pinhole-call (run with -v)
# writing LOG has its REGISTER answered 200 (10 s at most unless told: its
# firewall measurement comes first, about 2 s).
lab_wait_pc_registered() {
	lab_wait_for "${2:-10}" "$1" '^pinhole-call: REGISTER: 200'
}

# lab_count_rtp HOST: counts the datagrams to baresip's RTP ports (20000-
# 20999) at HOST; lab_rtp_in HOST: how many so far.
lab_count_rtp() {
	lab_exec "$1" nft -f - <<'NFT'
table inet count {
	counter rtp_in { }
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 20000-20999 counter name "rtp_in"
	}
}
NFT
}
lab_rtp_in() { lab_exec "$1" nft list counter inet count rtp_in | awk '/packets/ { print $2 }'; }

# lab_baresip_ctl HOST COMMAND [PARAMS]: one ctrl_tcp command (JSON in
# netstrings) to the baresip of lab host HOST, whose config has
# "module_app ctrl_tcp.so" and "ctrl_tcp_listen 127.0.0.1:4444"; 0 when it
# answers ok
lab_baresip_ctl() {
	lab_exec "$1" python3 - "$2" "${3:-}" <<'PY'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", 4444), timeout=5)
m = json.dumps({"command": sys.argv[1], "params": sys.argv[2], "token": "lab"}).encode()
s.sendall(b"%d:%s," % (len(m), m))
buf = b""
while True:
    d = s.recv(4096)
    if not d:
        sys.exit("ctrl_tcp closed")
    buf += d
    while b":" in buf:
        n, _, rest = buf.partition(b":")
        if len(rest) <= int(n):
            break
        msg, buf = json.loads(rest[:int(n)]), rest[int(n) + 1:]
        if msg.get("response"):
            sys.exit(0 if msg.get("ok") else "not ok: %s" % msg.get("data"))
PY
}
