/* store = redis in a build without hiredis: refused at start, saying so. */
#include "config.h"

#include <errno.h>

#include "log.h"
#include "store.h"

int store_redis_alloc(struct loc_store **sp, struct loc_store *mem,
		      const struct pconf *c, su_root_t *root, time_t now)
{
	(void)sp; (void)c; (void)root; (void)now;
	loc_destroy(mem);
	log_err("store: store = redis, but pinholed was built without hiredis "
		"(Debian: libhiredis-dev; configure said so): install it and "
		"build again, or set store = file");
	return ENOTSUP;
}

bool store_node_alive(const char *node)
{
	(void)node;
	return false;
}
