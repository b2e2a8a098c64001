/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/error_test.c - v2x_strerror() and v2x_errname(): every V2X_E_*
 * code has its own text and token, errno values map to the system text, and
 * anything else is "unknown".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "v2x/error.h"

static const int codes[] = {
	V2X_E_TRUNCATED, V2X_E_RANGE,  V2X_E_UNKNOWN_MSG, V2X_E_LIMIT,
	V2X_E_TRAILING,  V2X_E_TYPE,   V2X_E_MISSING,     V2X_E_NOSPACE,
	V2X_E_SYNTAX,    V2X_E_FRAMING, V2X_E_INVALID,    V2X_E_NESTING,
};

#define NCODES (sizeof(codes) / sizeof(codes[0]))

static void test_distinct(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCODES; i++) {
		const char *text = v2x_strerror(codes[i]);
		const char *name = v2x_errname(codes[i]);
		assert_non_null(text);
		assert_non_null(name);
		assert_string_not_equal(text, "unknown error");
		assert_string_not_equal(name, "unknown");
		assert_string_not_equal(name, "system");
		/* Tokens are metric labels: lower case and underscores. */
		for (const char *p = name; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		/* The codes stay clear of negated errno values. */
		assert_true(codes[i] < -4096);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(text, v2x_strerror(codes[j]));
			assert_string_not_equal(name, v2x_errname(codes[j]));
		}
	}
}

static void test_known_tokens(void **state)
{
	(void)state;
	/* Metric labels other parts rely on. */
	assert_string_equal(v2x_errname(V2X_E_TRUNCATED), "truncated");
	assert_string_equal(v2x_errname(V2X_E_RANGE), "range");
	assert_string_equal(v2x_errname(V2X_E_UNKNOWN_MSG), "unknown_msg");
	assert_string_equal(v2x_errname(V2X_E_LIMIT), "limit");
	assert_string_equal(v2x_errname(V2X_E_TRAILING), "trailing");
	assert_string_equal(v2x_errname(V2X_OK), "ok");
	assert_string_equal(v2x_strerror(V2X_OK), "success");
}

static void test_errno_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(v2x_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(v2x_strerror(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(v2x_errname(-EINVAL), "system");
	assert_string_equal(v2x_errname(-1), "system");
	assert_string_equal(v2x_strerror(-4999), "unknown error");
	assert_string_equal(v2x_strerror(-6000), "unknown error");
	assert_string_equal(v2x_strerror(7), "unknown error");
	assert_string_equal(v2x_errname(-6000), "unknown");
	assert_string_equal(v2x_errname(12), "unknown");
	assert_string_equal(v2x_errname(-2147483647 - 1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_known_tokens),
		cmocka_unit_test(test_errno_and_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
