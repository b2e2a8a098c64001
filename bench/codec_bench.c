/* SPDX-License-Identifier: MIT */
/*
 * v2x-codec-bench - nanoseconds per message for decode and encode of BSM in
 * J2735 UPER and in the msgpack frame, and for msgpack objects frames (of K
 * objects and of one object), over a large seeded set of distinct realistic
 * messages.  Each figure is the median of several runs over the whole set,
 * on one thread.  The msgpack encode figures come twice: through
 * v2x_msgpack_encode() (the direct writers where they apply) and through
 * the generic table-driven encoder alone (codecs/msgpack_fast.h), so that
 * one run shows both.
 *
 *   v2x-codec-bench [--n N] [--runs R] [--objects K] [--seed S] [--json]
 *
 * A benchmark, not a test: it prints numbers and never fails on them.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "v2x/v2x.h"

#include "../codecs/msgpack_fast.h"

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

/* Uniform in [lo, hi]. */
static int64_t rng_in(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* A vehicle near an urban RSU: plausible, distinct values in every field. */
static void make_bsm(struct rng *r, uint32_t i, struct v2x_bsm *b)
{
	memset(b, 0, sizeof(*b));
	b->ts_ns = 1764300000000000000ull + (uint64_t)i * 100000000ull;
	b->id = (uint32_t)rng_next(r);
	b->msg_cnt = (uint8_t)(i & 127);
	b->sec_mark = (uint16_t)rng_in(r, 0, 59999);
	b->lat = 481370000 + (int32_t)rng_in(r, -50000, 50000);
	b->lon = 115750000 + (int32_t)rng_in(r, -80000, 80000);
	b->elev = (int32_t)rng_in(r, 4800, 5400);
	b->acc_semi_major = (uint8_t)rng_in(r, 20, 80);
	b->acc_semi_minor = (uint8_t)rng_in(r, 20, 80);
	b->acc_orient = (uint16_t)rng_in(r, 0, 65534);
	b->transmission = 2;
	b->speed = (uint16_t)rng_in(r, 0, 2000);
	b->heading = (uint16_t)rng_in(r, 0, 28799);
	b->angle = (int8_t)rng_in(r, -20, 20);
	b->accel_long = (int16_t)rng_in(r, -600, 300);
	b->accel_lat = (int16_t)rng_in(r, -200, 200);
	b->accel_vert = (int8_t)rng_in(r, -5, 5);
	b->yaw_rate = (int16_t)rng_in(r, -1500, 1500);
	b->wheel_brakes = b->accel_long < -300 ? 0x1e : 0;
	b->traction = 1;
	b->abs = 1;
	b->scs = 1;
	b->brake_boost = 0;
	b->aux_brakes = 0;
	b->width_cm = (uint16_t)rng_in(r, 170, 250);
	b->length_cm = (uint16_t)rng_in(r, 380, 1200);
	if (rng_next(r) % 4 == 0) {
		b->has_events = 1;
		b->events = b->wheel_brakes ? V2X_EVENT_FLAG_HARD_BRAKING : 1;
	}
}

static void make_objects(struct rng *r, uint32_t i, unsigned n,
			 struct v2x_objects *o)
{
	o->ts_ns = 1764300000000000000ull + (uint64_t)i * 50000000ull;
	o->sensor_id = (uint32_t)rng_in(r, 1, 16);
	o->n = (uint16_t)n;
	for (unsigned k = 0; k < n; k++) {
		struct v2x_object *x = &o->obj[k];
		memset(x, 0, sizeof(*x));
		x->id = (uint32_t)rng_in(r, 1, 100000);
		x->cls = (uint8_t)rng_in(r, 0, V2X_CLASS_MAX);
		x->confidence = (uint8_t)rng_in(r, 40, 100);
		x->lat = 481370000 + (int32_t)rng_in(r, -5000, 5000);
		x->lon = 115750000 + (int32_t)rng_in(r, -8000, 8000);
		x->speed = (uint16_t)rng_in(r, 0, 1500);
		x->heading = (uint16_t)rng_in(r, 0, 28799);
		x->length_cm = (uint16_t)rng_in(r, 50, 1200);
		x->width_cm = (uint16_t)rng_in(r, 50, 250);
	}
}

/* A set of encoded messages, back to back. */
struct corpus {
	uint8_t *bytes;
	uint32_t *off;
	uint32_t *len;
	size_t n, used, cap;
};

static int corpus_init(struct corpus *c, size_t n, size_t cap)
{
	c->bytes = malloc(cap);
	c->off = calloc(n, sizeof(*c->off));
	c->len = calloc(n, sizeof(*c->len));
	c->n = 0;
	c->used = 0;
	c->cap = cap;
	return c->bytes && c->off && c->len ? 0 : -1;
}

static void corpus_fini(struct corpus *c)
{
	free(c->bytes);
	free(c->off);
	free(c->len);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum op {
	OP_UPER_DECODE,
	OP_UPER_ENCODE,
	OP_MP_DECODE,
	OP_MP_ENCODE,
	OP_MP_ENCODE_GENERIC,
	OP_OBJ_DECODE,
	OP_OBJ_ENCODE,
	OP_OBJ_ENCODE_GENERIC,
	OP_OBJ1_ENCODE,
	OP_OBJ1_ENCODE_GENERIC,
	OP_COUNT,
};

static const char *const op_names[OP_COUNT] = {
	"uper_bsm_decode",
	"uper_bsm_encode",
	"msgpack_bsm_decode",
	"msgpack_bsm_encode",
	"msgpack_bsm_encode_generic",
	"msgpack_objects_decode",
	"msgpack_objects_encode",
	"msgpack_objects_encode_generic",
	"msgpack_obj1_encode",
	"msgpack_obj1_encode_generic",
};

typedef int (*encode_fn)(const struct v2x_msg *msg, uint8_t *buf, size_t cap);

struct bench {
	struct corpus uper, mp, obj, obj1;
	struct v2x_bsm *bsm;   /* the source messages */
	struct v2x_msg *msgs;  /* the same as v2x_msg, for msgpack encode */
	struct v2x_msg *objs;  /* objects frames of K objects */
	struct v2x_msg *objs1; /* objects frames of one object */
	struct v2x_msgpack_decoder *dec;
	struct v2x_msg *scratch;
	uint8_t out[65536];
	uint64_t sink;         /* keeps results observable */
	long errors;
};

/* Encodes msgs[0..n) one after the other into b->out. */
static void encode_all(struct bench *b, encode_fn encode,
		       const struct v2x_msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = encode(&msgs[i], b->out, sizeof(b->out));
		b->errors += rc < 0;
		b->sink += b->out[rc > 1 ? rc - 1 : 0];
	}
}

/* The set an operation runs over. */
static struct corpus *corpus_of(struct bench *b, enum op op)
{
	switch (op) {
	case OP_UPER_DECODE:
	case OP_UPER_ENCODE:
		return &b->uper;
	case OP_OBJ_DECODE:
	case OP_OBJ_ENCODE:
	case OP_OBJ_ENCODE_GENERIC:
		return &b->obj;
	case OP_OBJ1_ENCODE:
	case OP_OBJ1_ENCODE_GENERIC:
		return &b->obj1;
	default:
		return &b->mp;
	}
}

/*
 * Appends the msgpack frame of m to c.  Also encodes it with the generic
 * encoder alone: the two must give the same octets, or the figures would
 * compare different work.  Returns 0 or -1 (reported).
 */
static int corpus_add(struct bench *b, struct corpus *c, const struct v2x_msg *m)
{
	uint8_t *dst = c->bytes + c->used;
	int len = v2x_msgpack_encode(m, dst, c->cap - c->used);
	int ref = msgpack__encode_generic(m, b->out, sizeof(b->out));

	if (len <= 0) {
		fprintf(stderr, "msgpack encode failed: %s\n", v2x_strerror(len));
		return -1;
	}
	if (ref != len || memcmp(dst, b->out, (size_t)len) != 0) {
		fprintf(stderr, "msgpack encoders disagree on message %zu\n", c->n);
		return -1;
	}
	c->off[c->n] = (uint32_t)c->used;
	c->len[c->n] = (uint32_t)len;
	c->used += (size_t)len;
	c->n++;
	return 0;
}

/* One pass over the whole set; returns ns per message. */
static double run_once(struct bench *b, enum op op)
{
	struct corpus *c = corpus_of(b, op);
	double t0 = now_ns();
	size_t n = c->n;

	switch (op) {
	case OP_UPER_DECODE:
		for (size_t i = 0; i < n; i++) {
			struct v2x_bsm out;
			int rc = v2x_uper_decode_bsm(c->bytes + c->off[i],
						     c->len[i], &out);
			b->errors += rc < 0;
			b->sink += out.lat;
		}
		break;
	case OP_UPER_ENCODE:
		for (size_t i = 0; i < n; i++) {
			int rc = v2x_uper_encode_bsm(&b->bsm[i], b->out,
						     sizeof(b->out));
			b->errors += rc < 0;
			b->sink += b->out[rc > 1 ? rc - 1 : 0];
		}
		break;
	case OP_MP_DECODE:
	case OP_OBJ_DECODE:
		for (size_t i = 0; i < n; i++) {
			int rc = v2x_msgpack_decode(b->dec, c->bytes + c->off[i],
						    c->len[i], b->scratch);
			b->errors += rc < 0;
			b->sink += b->scratch->type;
		}
		break;
	case OP_MP_ENCODE:
		encode_all(b, v2x_msgpack_encode, b->msgs, n);
		break;
	case OP_MP_ENCODE_GENERIC:
		encode_all(b, msgpack__encode_generic, b->msgs, n);
		break;
	case OP_OBJ_ENCODE:
		encode_all(b, v2x_msgpack_encode, b->objs, n);
		break;
	case OP_OBJ_ENCODE_GENERIC:
		encode_all(b, msgpack__encode_generic, b->objs, n);
		break;
	case OP_OBJ1_ENCODE:
		encode_all(b, v2x_msgpack_encode, b->objs1, n);
		break;
	case OP_OBJ1_ENCODE_GENERIC:
		encode_all(b, msgpack__encode_generic, b->objs1, n);
		break;
	default:
		break;
	}
	return (now_ns() - t0) / (double)n;
}

static void cpu_model(char *out, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *colon = strchr(line, ':');
			if (colon) {
				colon += 1 + (colon[1] == ' ');
				colon[strcspn(colon, "\n")] = '\0';
				snprintf(out, cap, "%s", colon);
			}
			break;
		}
	}
	fclose(f);
}

static void usage(FILE *f)
{
	fputs("usage: v2x-codec-bench [--n N] [--runs R] [--objects K] "
	      "[--seed S] [--json]\n"
	      "  --n N        distinct BSMs (default 100000)\n"
	      "  --runs R     passes per figure, median reported (default 9)\n"
	      "  --objects K  objects per sensor frame (default 16)\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "objects", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 100000;
	int runs = 9, json = 0, c, rc = 1;
	unsigned per_frame = 16;
	uint64_t seed = 0x76327865646765ull;
	struct bench *b = calloc(1, sizeof(*b));
	struct v2x_objects *objs = malloc(sizeof(*objs));
	double med[OP_COUNT];
	double avg_len[OP_COUNT] = { 0 };
	char cpu[256];

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'k':
			per_frame = (unsigned)atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			free(b);
			free(objs);
			return 0;
		default:
			usage(stderr);
			free(b);
			free(objs);
			return 2;
		}
	}
	if (!b || !objs || n == 0 || runs < 1 || runs > 1000 ||
	    per_frame > V2X_OBJECTS_MAX || seed == 0) {
		usage(stderr);
		goto out;
	}

	struct rng r = { seed };
	size_t n_obj = n / 10 ? n / 10 : 1;
	b->bsm = calloc(n, sizeof(*b->bsm));
	b->msgs = calloc(n, sizeof(*b->msgs));
	b->objs = calloc(n_obj, sizeof(*b->objs));
	b->objs1 = calloc(n_obj, sizeof(*b->objs1));
	b->scratch = malloc(sizeof(*b->scratch));
	b->dec = v2x_msgpack_decoder_new();
	if (!b->bsm || !b->msgs || !b->objs || !b->objs1 || !b->scratch ||
	    !b->dec || corpus_init(&b->uper, n, n * 64) < 0 ||
	    corpus_init(&b->mp, n, n * 384) < 0 ||
	    corpus_init(&b->obj, n_obj, n_obj * (64 + per_frame * 128)) < 0 ||
	    corpus_init(&b->obj1, n_obj, n_obj * (64 + 128)) < 0) {
		fprintf(stderr, "v2x-codec-bench: out of memory\n");
		goto out;
	}

	/* The message sets: every message distinct, encoded once up front. */
	for (size_t i = 0; i < n; i++) {
		make_bsm(&r, (uint32_t)i, &b->bsm[i]);
		b->msgs[i].type = V2X_MSG_BSM;
		b->msgs[i].u.bsm = b->bsm[i];
		int len = v2x_uper_encode_bsm(&b->bsm[i], b->uper.bytes + b->uper.used,
					      b->uper.cap - b->uper.used);
		if (len <= 0) {
			fprintf(stderr, "uper encode failed: %s\n", v2x_strerror(len));
			goto out;
		}
		b->uper.off[i] = (uint32_t)b->uper.used;
		b->uper.len[i] = (uint32_t)len;
		b->uper.used += (size_t)len;
		b->uper.n++;
		if (corpus_add(b, &b->mp, &b->msgs[i]) < 0)
			goto out;
	}
	for (size_t i = 0; i < n_obj; i++) {
		make_objects(&r, (uint32_t)i, per_frame, objs);
		b->objs[i].type = V2X_MSG_OBJECTS;
		b->objs[i].u.objects = *objs;
		if (corpus_add(b, &b->obj, &b->objs[i]) < 0)
			goto out;
	}
	for (size_t i = 0; i < n_obj; i++) {
		make_objects(&r, (uint32_t)i, 1, objs);
		b->objs1[i].type = V2X_MSG_OBJECTS;
		b->objs1[i].u.objects = *objs;
		if (corpus_add(b, &b->obj1, &b->objs1[i]) < 0)
			goto out;
	}
	avg_len[OP_UPER_DECODE] = avg_len[OP_UPER_ENCODE] =
		(double)b->uper.used / (double)n;
	avg_len[OP_MP_DECODE] = avg_len[OP_MP_ENCODE] =
		avg_len[OP_MP_ENCODE_GENERIC] = (double)b->mp.used / (double)n;
	avg_len[OP_OBJ_DECODE] = avg_len[OP_OBJ_ENCODE] =
		avg_len[OP_OBJ_ENCODE_GENERIC] = (double)b->obj.used / (double)n_obj;
	avg_len[OP_OBJ1_ENCODE] = avg_len[OP_OBJ1_ENCODE_GENERIC] =
		(double)b->obj1.used / (double)n_obj;

	double *times = calloc((size_t)runs, sizeof(double));
	if (!times)
		goto out;
	for (int op = 0; op < OP_COUNT; op++) {
		run_once(b, (enum op)op); /* warm caches and branch predictors */
		for (int k = 0; k < runs; k++)
			times[k] = run_once(b, (enum op)op);
		med[op] = median(times, runs);
	}
	free(times);
	if (b->errors) {
		fprintf(stderr, "v2x-codec-bench: %ld codec errors\n", b->errors);
		goto out;
	}

	cpu_model(cpu, sizeof(cpu));
	if (json) {
		printf("{\"cpu\":\"%s\",\"messages\":%zu,\"object_frames\":%zu,"
		       "\"objects_per_frame\":%u,\"runs\":%d,\"seed\":%" PRIu64
		       ",\"ns_per_msg\":{",
		       cpu, n, n_obj, per_frame, runs, seed);
		for (int op = 0; op < OP_COUNT; op++)
			printf("%s\"%s\":%.1f", op ? "," : "", op_names[op], med[op]);
		printf("},\"avg_octets\":{");
		for (int op = 0; op < OP_COUNT; op++)
			printf("%s\"%s\":%.1f", op ? "," : "", op_names[op],
			       avg_len[op]);
		printf("}}\n");
	} else {
		printf("cpu: %s\n", cpu);
		printf("set: %zu distinct BSMs, %zu objects frames x %u objects, "
		       "%zu x 1 object; median of %d runs, one thread\n",
		       n, n_obj, per_frame, n_obj, runs);
		printf("%-32s %12s %12s\n", "operation", "ns/msg", "avg octets");
		for (int op = 0; op < OP_COUNT; op++) {
			printf("%-32s %12.1f %12.1f\n", op_names[op], med[op],
			       avg_len[op]);
			if (per_frame && op == OP_OBJ_DECODE)
				printf("%-32s %12.1f\n", "  per object",
				       med[OP_OBJ_DECODE] / per_frame);
		}
	}
	/* Printed so that the compiler cannot drop the work. */
	fprintf(stderr, "checksum %" PRIu64 "\n", b->sink);
	rc = 0;
out:
	if (b) {
		corpus_fini(&b->uper);
		corpus_fini(&b->mp);
		corpus_fini(&b->obj);
		corpus_fini(&b->obj1);
		free(b->bsm);
		free(b->msgs);
		free(b->objs);
		free(b->objs1);
		free(b->scratch);
		v2x_msgpack_decoder_free(b->dec);
	}
	free(b);
	free(objs);
	return rc;
}
