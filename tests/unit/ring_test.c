/* SPDX-License-Identifier: MIT */
/* ring_test.c - SPSC ring: bounds, order, wrap-around, batches, two threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

static void test_init_rejects_bad_sizes(void **state)
{
	struct ring r;

	(void)state;
	assert_int_equal(ring_init(&r, 0, 8), -EINVAL);
	assert_int_equal(ring_init(&r, 1, 8), -EINVAL);
	assert_int_equal(ring_init(&r, 3, 8), -EINVAL);
	assert_int_equal(ring_init(&r, 1000, 8), -EINVAL);
	assert_int_equal(ring_init(&r, 16, 0), -EINVAL);
	assert_int_equal(ring_init(&r, 16, 12), 0);
	assert_int_equal(r.slot_size, 16); /* rounded up to 8 */
	ring_fini(&r);
	ring_fini(&r); /* twice is harmless */
}

static void test_fifo_full_and_empty(void **state)
{
	struct ring r;
	uint64_t v;

	(void)state;
	assert_int_equal(ring_init(&r, 8, sizeof(uint64_t)), 0);
	assert_int_equal(ring_pop(&r, &v, sizeof(v)), -EAGAIN);
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(ring_push(&r, &i, sizeof(i)), 0);
	v = 99;
	assert_int_equal(ring_push(&r, &v, sizeof(v)), -ENOBUFS);
	assert_int_equal(ring_count(&r), 8);
	assert_int_equal(ring_prod_avail(&r, 4), 0);
	for (uint64_t i = 0; i < 8; i++) {
		assert_int_equal(ring_pop(&r, &v, sizeof(v)), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(ring_pop(&r, &v, sizeof(v)), -EAGAIN);
	assert_int_equal(ring_count(&r), 0);
	/* Oversized element refused. */
	{
		char big[64] = { 0 };

		assert_int_equal(ring_push(&r, big, sizeof(big)), -EINVAL);
	}
	ring_fini(&r);
}

static void test_wraparound_batches(void **state)
{
	struct ring r;
	uint32_t next_in = 0, next_out = 0;

	(void)state;
	assert_int_equal(ring_init(&r, 16, sizeof(uint32_t)), 0);
	/* Many rounds of uneven batches cross the index wrap many times. */
	for (int round = 0; round < 10000; round++) {
		uint32_t want = (uint32_t)(round % 7) + 1;
		uint32_t n = ring_prod_avail(&r, want);

		for (uint32_t i = 0; i < n; i++)
			*(uint32_t *)ring_prod_slot(&r, i) = next_in++;
		ring_prod_commit(&r, n);

		want = (uint32_t)(round % 5) + 1;
		n = ring_cons_avail(&r, want);
		assert_true(n <= want);
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(*(uint32_t *)ring_cons_slot(&r, i), next_out++);
		ring_cons_release(&r, n);
		assert_true(ring_count(&r) <= 16);
	}
	/* Drain. */
	for (;;) {
		uint32_t n = ring_cons_avail(&r, 16);

		if (!n)
			break;
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(*(uint32_t *)ring_cons_slot(&r, i), next_out++);
		ring_cons_release(&r, n);
	}
	assert_int_equal(next_in, next_out);
	ring_fini(&r);
}

static void test_wait_times_out_when_empty(void **state)
{
	struct ring r;
	uint32_t v = 7;

	(void)state;
	assert_int_equal(ring_init(&r, 4, sizeof(v)), 0);
	assert_int_equal(ring_wait(&r, 1000000), 0);
	assert_int_equal(ring_push(&r, &v, sizeof(v)), 0);
	assert_int_equal(ring_wait(&r, 1000000), 1);
	ring_fini(&r);
}

#define STRESS_N 2000000u

struct item {
	uint64_t seq;
	uint64_t check;
	char pad[40];
};

static void *producer(void *arg)
{
	struct ring *r = arg;
	uint64_t seq = 0;

	while (seq < STRESS_N) {
		uint32_t n = ring_prod_avail(r, 32);

		if (n > STRESS_N - seq)
			n = (uint32_t)(STRESS_N - seq);
		for (uint32_t i = 0; i < n; i++) {
			struct item *it = ring_prod_slot(r, i);

			it->seq = seq;
			it->check = seq * 0x9e3779b97f4a7c15ull;
			memset(it->pad, (int)(seq & 0xff), sizeof(it->pad));
			seq++;
		}
		if (n) {
			ring_prod_commit(r, n);
			ring_notify(r);
		}
	}
	return NULL;
}

static void test_two_thread_stress(void **state)
{
	struct ring r;
	pthread_t th;
	uint64_t expect = 0;

	(void)state;
	assert_int_equal(ring_init(&r, 256, sizeof(struct item)), 0);
	assert_int_equal(pthread_create(&th, NULL, producer, &r), 0);
	while (expect < STRESS_N) {
		uint32_t n = ring_cons_avail(&r, 64);

		if (!n) {
			ring_wait(&r, 10000000);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			const struct item *it = ring_cons_slot(&r, i);

			assert_int_equal(it->seq, expect);
			assert_int_equal(it->check, expect * 0x9e3779b97f4a7c15ull);
			assert_int_equal((unsigned char)it->pad[39], expect & 0xff);
			expect++;
		}
		ring_cons_release(&r, n);
	}
	pthread_join(th, NULL);
	assert_int_equal(ring_count(&r), 0);
	ring_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_sizes),
		cmocka_unit_test(test_fifo_full_and_empty),
		cmocka_unit_test(test_wraparound_batches),
		cmocka_unit_test(test_wait_times_out_when_empty),
		cmocka_unit_test(test_two_thread_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
