/* pinhole-call's certificate directory (calltls.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calltls.h"

static void cafile_path(const char *dir, char *buf, size_t size)
{
	snprintf(buf, size, "%s/cafile.pem", dir);
}

int calltls_dir_make(const char *ca, char *dir, size_t size)
{
	char abs[PATH_MAX], link[CALLTLS_DIR_LEN + 16];

	if (ca && !realpath(ca, abs))
		return errno;
	if (snprintf(dir, size, "/tmp/pinhole-call-tls.XXXXXX") >= (int)size ||
	    !mkdtemp(dir))
		return errno ? errno : ENAMETOOLONG;
	cafile_path(dir, link, sizeof link);
	if (ca && symlink(abs, link)) {
		int err = errno;

		rmdir(dir);
		return err;
	}
	return 0;
}

void calltls_dir_remove(const char *dir)
{
	char link[CALLTLS_DIR_LEN + 16];

	cafile_path(dir, link, sizeof link);
	unlink(link);
	rmdir(dir);
}
