/* SPDX-License-Identifier: MIT */
/*
 * j2735_tool.c - test driver for the interop check and the fuzz seeds:
 *   j2735_tool gen SEED COUNT ID OPAQUE   random MessageFrames, hex per line
 *   j2735_tool json                        hex lines on stdin -> JSON lines
 *   j2735_tool seeds DIR ID COUNT          binary seed files DIR/seed-N
 * Exit 0, or 1 if a line did not decode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "j2735_gen.h"
#include "v2x/error.h"
#include "v2x/j2735.h"

static struct v2x_j2735_msg msg;
static uint8_t buf[1 << 16];
static char line[1 << 18], json[1 << 20];

static int cmd_gen(unsigned long long seed, int count, int id, int opaque)
{
	struct gen_rng r = { seed, opaque };

	for (int i = 0; i < count; i++) {
		int n;

		gen_message(&msg, &r, id);
		n = v2x_j2735_encode(&msg, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "encode: %s\n", v2x_strerror(n));
			return 1;
		}
		for (int k = 0; k < n; k++)
			printf("%02x", buf[k]);
		putchar('\n');
	}
	return 0;
}

static int cmd_json(void)
{
	int bad = 0;

	while (fgets(line, sizeof(line), stdin)) {
		size_t n = 0;
		unsigned x;
		int ret;

		for (char *p = line; sscanf(p, "%2x", &x) == 1; p += 2)
			buf[n++] = (uint8_t)x;
		ret = v2x_j2735_decode(buf, n, &msg);
		if (ret >= 0)
			ret = v2x_j2735_to_json(&msg, json, sizeof(json));
		if (ret < 0) {
			printf("{\"error\":\"%s\"}\n", v2x_errname(ret));
			bad = 1;
			continue;
		}
		puts(json);
	}
	return bad;
}

static int cmd_seeds(const char *dir, int id, int count)
{
	struct gen_rng r = { (unsigned long long)id * 7919, 1 };

	for (int i = 0; i < count; i++) {
		char path[4096];
		FILE *f;
		int n;

		gen_message(&msg, &r, id);
		n = v2x_j2735_encode(&msg, buf, sizeof(buf));
		if (n < 0)
			return 1;
		snprintf(path, sizeof(path), "%s/seed-%d-%d", dir, id, i);
		f = fopen(path, "wb");
		if (!f)
			return 1;
		fwrite(buf, 1, (size_t)n, f);
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "gen"))
		return cmd_gen(strtoull(argv[2], NULL, 0), atoi(argv[3]),
			       atoi(argv[4]), atoi(argv[5]));
	if (argc == 2 && !strcmp(argv[1], "json"))
		return cmd_json();
	if (argc == 5 && !strcmp(argv[1], "seeds"))
		return cmd_seeds(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: j2735_tool gen SEED COUNT ID OPAQUE | json | "
			"seeds DIR ID COUNT\n");
	return 2;
}
