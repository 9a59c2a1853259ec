/* pinholed-passwd: adds a user to pinholed's users file, or changes its
 * password: one "user:realm:HA1-MD5:HA1-SHA-256" line (RFC 7616 3.4.2:
 * the server needs H(user:realm:password) only, never the password). The
 * file is replaced whole (a temporary file renamed over it), so that
 * pinholed never reads half of it. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "auth.h"

static const char usage[] =
"Usage: pinholed-passwd [-r REALM] FILE USER\n"
"Adds USER to pinholed's users file FILE (users = FILE in pinholed.conf),\n"
"or changes its password. The password is read from standard input: asked\n"
"twice, without echo, on a terminal; else the first line.\n"
"FILE keeps one line per user and realm, user:realm:HA1-MD5:HA1-SHA-256\n"
"(the digests of user:realm:password, RFC 7616): no password is stored.\n"
"It is created with mode 0600 if missing, and replaced atomically.\n"
"\n"
"  -r, --realm REALM  the realm pinholed challenges with (its realm key;\n"
"                     by default the first of its domains, else the host\n"
"                     name); default here: this host's name.\n"
"  -h, --help         show this help and exit.\n"
"\n"
"Example:\n"
"  pinholed-passwd -r example.com /etc/pinhole/users alice\n";

static int read_line(const char *prompt, bool tty, char *buf, size_t size)
{
	size_t n;

	if (tty)
		fputs(prompt, stderr);
	if (!fgets(buf, (int)size, stdin))
		return EIO;
	if (tty)
		fputc('\n', stderr);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 0;
}

static int read_password(char *pw, size_t size)
{
	bool tty = isatty(0);
	struct termios old, quiet;
	char again[256];
	int err;

	if (tty && !tcgetattr(0, &old)) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	err = read_line("Password: ", tty, pw, size);
	if (!err && tty) {
		err = read_line("Again: ", tty, again, sizeof again);
		if (!err && strcmp(pw, again)) {
			fputs("pinholed-passwd: the passwords differ\n", stderr);
			err = EINVAL;
		}
		OPENSSL_cleanse(again, sizeof again);
	}
	if (tty)
		tcsetattr(0, TCSAFLUSH, &old);
	if (!err && !*pw) {
		fputs("pinholed-passwd: empty password\n", stderr);
		err = EINVAL;
	}
	return err;
}

/* FILE's lines but USER's in REALM, then the new one, into a temporary
 * file beside it, renamed over it. */
static int write_file(const char *path, const char *user, const char *realm,
		      const char *line)
{
	char tmp[4096], buf[1024];
	size_t ul = strlen(user), rl = strlen(realm);
	struct stat st;
	FILE *in = fopen(path, "r"), *out;
	int fd, err = 0;

	if (!in && errno != ENOENT)
		return errno;
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
		return ENAMETOOLONG;
	if ((fd = mkstemp(tmp)) < 0 || !(out = fdopen(fd, "w"))) {
		err = errno;
		if (in)
			fclose(in);
		return err;
	}
	fchmod(fd, in && !fstat(fileno(in), &st) ? st.st_mode & 07777 : 0600);
	while (in && fgets(buf, sizeof buf, in))
		if (strncmp(buf, user, ul) || buf[ul] != ':' ||
		    strncmp(buf + ul + 1, realm, rl) || buf[ul + 1 + rl] != ':')
			fputs(buf, out);
	if (in && ferror(in))
		err = EIO;
	fputs(line, out);
	if (fflush(out) || fsync(fd))
		err = errno;
	if (fclose(out) && !err)
		err = errno;
	if (in)
		fclose(in);
	if (!err && rename(tmp, path))
		err = errno;
	if (err)
		unlink(tmp);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"realm", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char realm[AUTH_REALM_MAX] = "", pw[256], md5[33], sha[65], line[512];
	const char *path, *user;
	int c, err;

	while ((c = getopt_long(argc, argv, "r:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'r': snprintf(realm, sizeof realm, "%s", optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 1;
		}
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return 1;
	}
	path = argv[optind];
	user = argv[optind + 1];
	if (!*realm && gethostname(realm, sizeof realm))
		snprintf(realm, sizeof realm, "pinholed");
	realm[sizeof realm - 1] = '\0';
	if (!*user || strlen(user) >= AUTH_USER_MAX || strpbrk(user, ": \t\r\n") ||
	    strpbrk(realm, ":\"\\\r\n")) {
		fputs("pinholed-passwd: USER (at most 63 characters) and REALM "
		      "may not hold ':', '\"', '\\' or white space\n", stderr);
		return 1;
	}
	if (read_password(pw, sizeof pw))
		return 1;
	err = auth_ha1(AUTH_MD5, user, realm, pw, md5, sizeof md5);
	if (!err)
		err = auth_ha1(AUTH_SHA256, user, realm, pw, sha, sizeof sha);
	OPENSSL_cleanse(pw, sizeof pw);
	snprintf(line, sizeof line, "%s:%s:%s:%s\n", user, realm, md5, sha);
	if (!err)
		err = write_file(path, user, realm, line);
	if (err) {
		fprintf(stderr, "pinholed-passwd: %s: %s\n", path, strerror(err));
		return 2;
	}
	fprintf(stderr, "pinholed-passwd: %s of realm %s written to %s\n", user,
		realm, path);
	return 0;
}
