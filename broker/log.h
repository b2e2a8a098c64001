/* SPDX-License-Identifier: MIT */
/*
 * log.h - levelled logging to stderr for the broker program.
 *
 * Only the daemon logs (library-style modules return codes).  When stderr is
 * not a terminal, or JOURNAL_STREAM is set, each line starts with the
 * syslog priority prefix "<N>" that journald understands; on a terminal a
 * timestamp and level name are printed instead.
 *
 * The macros test the level before evaluating their arguments, so a
 * disabled debug line costs one load and one compare.
 * Thread-safe: one write(2) per line.
 */
#ifndef V2X_BROKER_LOG_H
#define V2X_BROKER_LOG_H

#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Current threshold; lines with a level above it are not printed. */
extern int v2x_log_threshold;

/* v2x_log_set_level() - set the threshold; returns the previous one. */
int v2x_log_set_level(int level);

/*
 * v2x_log_level_from_name() - "err"/"error", "warn"/"warning", "notice",
 * "info", "debug" -> level, or V2X_E_RANGE for anything else.
 */
int v2x_log_level_from_name(const char *name);

/* v2x_log_level_name() - "error", "warning", ... for a level. */
const char *v2x_log_level_name(int level);

/*
 * v2x_log_init() - choose the output style (journald prefixes or terminal);
 * call once at start-up before threads exist.
 */
void v2x_log_init(void);

/* v2x_log_write() - format and write one line; use the macros instead. */
void v2x_log_write(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define V2X_LOG(level, ...)                                                    \
	do {                                                                   \
		if ((level) <= v2x_log_threshold)                              \
			v2x_log_write((level), __VA_ARGS__);                   \
	} while (0)

#define log_err(...) V2X_LOG(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) V2X_LOG(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) V2X_LOG(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) V2X_LOG(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) V2X_LOG(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Rate limiter for faults that can repeat per message: allows one line per
 * interval and counts what it suppressed.  Keep one per call site (static);
 * safe to share between threads (atomics).
 */
struct log_ratelimit {
	uint64_t interval_ns;
	_Atomic uint64_t next_ns;
	_Atomic uint64_t suppressed;
};

#define LOG_RATELIMIT_INIT(interval_s) { (uint64_t)(interval_s) * 1000000000ull, 0, 0 }

/*
 * v2x_log_ratelimit_ok() - 1 if a line may be printed now (and stores in
 * *suppressed how many were skipped since the last one), else 0 (and counts
 * the skipped line).
 */
int v2x_log_ratelimit_ok(struct log_ratelimit *rl, uint64_t *suppressed);

#define log_ratelimited(rl, level, fmt, ...)                                   \
	do {                                                                   \
		uint64_t log__supp_;                                           \
		if ((level) <= v2x_log_threshold &&                            \
		    v2x_log_ratelimit_ok((rl), &log__supp_))                   \
			v2x_log_write((level), fmt " (%llu similar suppressed)", \
				      __VA_ARGS__,                             \
				      (unsigned long long)log__supp_);         \
	} while (0)

#endif
