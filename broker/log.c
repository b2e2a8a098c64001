/* SPDX-License-Identifier: MIT */
/* log.c - levelled logging to stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "v2x/error.h"

int v2x_log_threshold = LOG_LVL_INFO;
static int log_journal = 1;

static const char *const level_names[] = {
	[0] = "emerg", [1] = "alert", [2] = "crit",
	[LOG_LVL_ERR] = "error", [LOG_LVL_WARN] = "warning",
	[LOG_LVL_NOTICE] = "notice", [LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/* Sets the threshold; returns the previous one.  Call before threads start. */
int v2x_log_set_level(int level)
{
	int old = v2x_log_threshold;

	if (level < LOG_LVL_ERR)
		level = LOG_LVL_ERR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	v2x_log_threshold = level;
	return old;
}

/* Level for a name, or V2X_E_RANGE.  Any thread. */
int v2x_log_level_from_name(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} tab[] = {
		{ "err", LOG_LVL_ERR },       { "error", LOG_LVL_ERR },
		{ "warn", LOG_LVL_WARN },     { "warning", LOG_LVL_WARN },
		{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
		{ "debug", LOG_LVL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(name, tab[i].name) == 0)
			return tab[i].level;
	return V2X_E_RANGE;
}

/* Static name of a level; "?" when out of range.  Any thread. */
const char *v2x_log_level_name(int level)
{
	if (level < 0 || level > LOG_LVL_DEBUG)
		return "?";
	return level_names[level];
}

/* Picks journald or terminal style from the environment; call once early. */
void v2x_log_init(void)
{
	log_journal = !isatty(STDERR_FILENO) || getenv("JOURNAL_STREAM") != NULL;
}

/* Formats one line and writes it with a single write(2).  Any thread. */
void v2x_log_write(int level, const char *fmt, ...)
{
	char line[1024];
	size_t n = 0;
	va_list ap;
	int r;

	if (log_journal) {
		r = snprintf(line, sizeof(line), "<%d>", level);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		r = snprintf(line, sizeof(line),
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, v2x_log_level_name(level));
	}
	if (r > 0)
		n = (size_t)r;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	line[n++] = '\n';
	/* A failed write to stderr has nowhere to be reported. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

static uint64_t log__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* See log.h.  Any thread; lock-free. */
int v2x_log_ratelimit_ok(struct log_ratelimit *rl, uint64_t *suppressed)
{
	uint64_t now = log__now_ns();
	uint64_t next = atomic_load_explicit(&rl->next_ns, memory_order_relaxed);

	if (now >= next &&
	    atomic_compare_exchange_strong(&rl->next_ns, &next, now + rl->interval_ns)) {
		*suppressed = atomic_exchange(&rl->suppressed, 0);
		return 1;
	}
	atomic_fetch_add_explicit(&rl->suppressed, 1, memory_order_relaxed);
	return 0;
}
