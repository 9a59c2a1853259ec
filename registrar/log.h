/* Logging for pinholed: one line per event, to stderr or syslog. */
#ifndef PINHOLED_LOG_H
#define PINHOLED_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Levels are syslog's (LOG_ERR .. LOG_DEBUG). */
void log_setup(bool use_syslog, int level);
int log_level_parse(const char *name);  /* -1 when unknown */
bool log_enabled(int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
