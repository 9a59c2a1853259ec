#!/bin/sh
# SIPVicious (Debian package sipvicious) against pinholed with users:
# svmap finds it and it keeps serving; svwar cannot tell users from non-users (and registers nobody);
# svcrack finds no strong password, and finds a weak one within its first
# guesses (so it does work against pinholed: its "found nothing" means
# something). SIPVicious sends from 127.0.0.1 whatever -b says, so bans
# start at 30 failures here, room for every guess of both svcrack runs
# and SIPp's register after them: the ban itself is auth.sh's. (svcrack
# waits 10 s after its last guess: this test takes about 20 s.)
. "${top_srcdir:-.}/tests/sipp/lib.sh"
PASSWD=$top_builddir/registrar/pinholed-passwd
for t in svmap svwar svcrack; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed (Debian package sipvicious)"
done

add_user() { printf '%s\n' "$2" | "$PASSWD" -r example.com "$WORK/users" "$1" 2>/dev/null || fail "pinholed-passwd $1"; }
ALICE_PW=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
add_user alice "$ALICE_PW"
add_user 100 "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
add_user weak 1012
printf 'alice\nbob\nnobody\n100\n101\nadmin\nweak\n' >"$WORK/users.dict"
seq 1008 1016 >"$WORK/pw.dict"   # weak's is the 5th
lp=$(free_base 3) || fail "no free port for SIPVicious"

# sv TOOL ARGS...: one tool against pinholed, from 127.0.0.1:$lp, bounded
sv() {
	t=$1; shift
	timeout 25 "$t" -x 127.0.0.1 -P "$lp" -p "$SIP_PORT" "$@" 127.0.0.1 \
		>"$WORK/$t.out" 2>&1
	echo "$t $*:"; sed 's/^/  /' "$WORK/$t.out" | tail -6
}

ph_start -o users="$WORK/users" -o realm=example.com -o auth_ban_failures=30
sv svmap
grep -q "127.0.0.1:$SIP_PORT" "$WORK/svmap.out" || fail "svmap did not find pinholed"
sv svwar -d "$WORK/users.dict" --force
grep -q 'found nothing' "$WORK/svwar.out" || fail "svwar told users apart"
grep -q 'REGISTER .*: 200' "$WORK/pinholed.log" && fail "svwar registered someone"
sv svcrack -u alice -d "$WORK/pw.dict"
grep -q 'found nothing' "$WORK/svcrack.out" || fail "svcrack on alice's strong password"
sv svcrack -u weak -d "$WORK/pw.dict"
grep -q '| weak .*| 1012 ' "$WORK/svcrack.out" ||
	fail "svcrack did not find weak's password: the test proves nothing"
sipp_run auth_register.xml -t u1 -s alice -ap "$ALICE_PW"   # still serving
