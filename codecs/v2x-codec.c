/* SPDX-License-Identifier: MIT */
/*
 * v2x-codec - decode J2735 UPER or msgpack frames to JSON lines, and encode
 * those JSON lines back, byte for byte.
 *
 *   v2x-codec decode --from uper|msgpack [--hex] [--stream]
 *                    [--framing auto|raw|1609.2|wsmp]
 *   v2x-codec encode --to uper|msgpack [--hex] [--stream]
 *
 * Input is stdin, output stdout; diagnostics go to stderr as
 * "line N: <reason>" (hex and JSON input) or "message N: <reason>" (binary
 * input).  A bad message is reported and the run goes on; the exit status is
 * 1 if any message was bad, 2 on a usage error.  See docs/wire.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "v2x/j2735.h"
#include "v2x/j2735_types.h"
#include "v2x/v2x.h"

#ifndef V2X_VERSION
#define V2X_VERSION "0.1.0"
#endif

/* Largest message accepted, in octets (and in JSON characters). */
#define MSG_MAX 65536
#define JSON_MAX (1u << 20)
_Static_assert(JSON_MAX > 2 * MSG_MAX, "hex output fits the JSON buffer");

enum codec { CODEC_NONE, CODEC_UPER, CODEC_MSGPACK };

struct opts {
	bool encode;
	enum codec codec;
	bool hex;
	bool stream;
	int framing;
};

/* Work buffers, allocated once for the whole run. */
struct work {
	struct v2x_msgpack_decoder *dec;
	struct v2x_j2735_msg *j2735;
	struct v2x_msg *msg;
	uint8_t *bin;
	char *json;
	const char *unit; /* "line" or "message" */
	unsigned long bad;
};

static void usage(FILE *out)
{
	fputs("usage: v2x-codec decode --from uper|msgpack [--hex] [--stream]\n"
	      "                        [--framing auto|raw|1609.2|wsmp]\n"
	      "       v2x-codec encode --to uper|msgpack [--hex] [--stream]\n"
	      "       v2x-codec --help | --version\n"
	      "\n"
	      "decode reads messages on stdin and prints one JSON object per\n"
	      "line: J2735 in the X.697 JER style, msgpack frames with their own\n"
	      "keys (docs/wire.md).  encode reads those lines and writes the\n"
	      "encoding.\n"
	      "\n"
	      "  --hex           one hex message per line; blank lines and\n"
	      "                  lines starting with '#' are skipped\n"
	      "  --stream        binary stream of records, each a 2-octet\n"
	      "                  big-endian length then that many octets\n"
	      "                  (default binary: stdin is one message,\n"
	      "                  or hex lines if it is only hex text)\n"
	      "  --framing F     UPER input framing: auto (default), raw,\n"
	      "                  1609.2 or wsmp; a framing other than raw is\n"
	      "                  reported on stderr as 'line N: note: ...'\n"
	      "\n"
	      "Exit status: 0 all messages good, 1 some message bad, 2 usage.\n",
	      out);
}

static void report(struct work *w, unsigned long n, const char *fmt,
		   const char *reason)
{
	fprintf(stderr, "%s %lu: ", w->unit, n);
	fprintf(stderr, fmt, reason);
	fputc('\n', stderr);
}

static void bad(struct work *w, unsigned long n, int rc)
{
	report(w, n, "%s", v2x_strerror(rc));
	w->bad++;
}

/* Reads all of stdin; returns the buffer (NUL-terminated) or NULL. */
static char *read_all(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		if (cap - n < 2) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, stdin);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(stdin)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Writes one encoded message in the chosen output form. */
static void put_message(const struct opts *o, struct work *w,
			const uint8_t *p, size_t n)
{
	if (o->hex) {
		/* n <= MSG_MAX, and JSON_MAX > 2 * MSG_MAX. */
		hex__encode(p, n, w->json, false);
		fwrite(w->json, 1, 2 * n, stdout);
		putchar('\n');
		return;
	}
	if (o->stream) {
		putchar((int)(n >> 8));
		putchar((int)(n & 0xff));
	}
	fwrite(p, 1, n, stdout);
}

static void warn_trailing(struct work *w, unsigned long n, size_t extra)
{
	char text[64];

	snprintf(text, sizeof(text), "%zu trailing octet%s ignored", extra,
		 extra == 1 ? "" : "s");
	report(w, n, "warning: %s", text);
}

static void decode_uper(const struct opts *o, struct work *w, unsigned long n,
			const uint8_t *p, size_t len)
{
	struct v2x_frame_info info;
	int rc = v2x_frame_unwrap(p, len, o->framing, &info);

	if (rc < 0) {
		bad(w, n, rc);
		return;
	}
	if (info.framing != V2X_FRAMING_RAW) {
		char text[160];
		snprintf(text, sizeof(text),
			 "framing %s%s, %s, signer %s, psid %lu",
			 v2x_framing_name(info.framing),
			 info.has_wsmp && info.framing != V2X_FRAMING_WSMP
				 ? " (with WSMP)" : "",
			 info.signed_data ? "signed" : "unsecured",
			 v2x_signer_name(info.signer),
			 (unsigned long)info.psid);
		report(w, n, "note: %s", text);
	}
	rc = v2x_j2735_decode(p + info.offset, info.length, w->j2735);
	if (rc < 0) {
		bad(w, n, rc);
		return;
	}
	if ((size_t)rc < info.length)
		warn_trailing(w, n, info.length - (size_t)rc);
	rc = v2x_j2735_to_json(w->j2735, w->json, JSON_MAX);
	if (rc < 0) {
		bad(w, n, rc);
		return;
	}
	fwrite(w->json, 1, (size_t)rc, stdout);
	putchar('\n');
}

static void decode_msgpack(struct work *w, unsigned long n, const uint8_t *p,
			   size_t len)
{
	int rc = v2x_msgpack_decode(w->dec, p, len, w->msg);

	if (rc < 0) {
		bad(w, n, rc);
		return;
	}
	if ((size_t)rc < len)
		warn_trailing(w, n, len - (size_t)rc);
	rc = v2x_msg_to_json(w->msg, w->json, JSON_MAX);
	if (rc < 0) {
		bad(w, n, rc);
		return;
	}
	fwrite(w->json, 1, (size_t)rc, stdout);
	putchar('\n');
}

static void decode_one(const struct opts *o, struct work *w, unsigned long n,
		       const uint8_t *p, size_t len)
{
	if (o->codec == CODEC_UPER)
		decode_uper(o, w, n, p, len);
	else
		decode_msgpack(w, n, p, len);
}

static void encode_one(const struct opts *o, struct work *w, unsigned long n,
		       const char *text, size_t len)
{
	int rc;

	if (o->codec == CODEC_UPER) {
		rc = v2x_j2735_from_json(text, len, w->j2735);
		if (rc >= 0)
			rc = v2x_j2735_encode(w->j2735, w->bin, MSG_MAX);
	} else {
		rc = v2x_msg_from_json(text, len, w->msg);
		if (rc >= 0)
			rc = v2x_msgpack_encode(w->msg, w->bin, MSG_MAX);
	}
	if (rc < 0) {
		bad(w, n, rc);
		return;
	}
	if (o->stream && !o->hex && rc > 0xffff) {
		bad(w, n, V2X_E_LIMIT);
		return;
	}
	put_message(o, w, w->bin, (size_t)rc);
}

/* True for a line that carries nothing: blank, or a '#' comment. */
static bool skip_line(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
		i++;
	return i == len || p[i] == '#';
}

/* Line-oriented input: hex messages (decode) or JSON lines (encode). */
static void run_lines(const struct opts *o, struct work *w, const char *in,
		      size_t len)
{
	unsigned long lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *line = in + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (skip_line(line, n))
			continue;
		if (o->encode) {
			encode_one(o, w, lineno, line, n);
			continue;
		}
		int rc = hex__decode(line, n, w->bin, MSG_MAX, true);
		if (rc < 0) {
			report(w, lineno, "%s (hex)", v2x_strerror(rc));
			w->bad++;
			continue;
		}
		decode_one(o, w, lineno, w->bin, (size_t)rc);
	}
}

/*
 * True if binary input is really hex text: only hex digits, white space and
 * '#' comment lines, at least one digit.  Binary frames do not look like that: a raw
 * MessageFrame of any J2735 messageId (< 256) starts 0x00, 1609.2 and WSMP
 * start 0x03 / 0x0b, and a msgpack frame's root is a map (0x80..0x8f, 0xde,
 * 0xdf) - none of them an ASCII hex digit.  --framing raw with a messageId of
 * 0x3000 or more could in theory collide; --stream never guesses.
 */
static bool looks_hex(const char *in, size_t len)
{
	bool digit = false, line_start = true;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i];

		if (c == '#' && line_start) {
			/* A comment line, as --hex skips it. */
			const char *nl = memchr(in + i, '\n', len - i);

			i = nl ? (size_t)(nl - in) : len;
			continue;
		}
		if (c == '\n') {
			line_start = true;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r')
			continue;
		if (hex__nibble(c) < 0)
			return false;
		digit = true;
		line_start = false;
	}
	return digit;
}

/* Binary input: one message, or a stream of length-prefixed records. */
static void run_binary(const struct opts *o, struct work *w,
		       const uint8_t *in, size_t len)
{
	unsigned long n = 0;
	size_t pos = 0;

	if (!o->stream) {
		decode_one(o, w, 1, in, len);
		return;
	}
	while (pos < len) {
		n++;
		if (len - pos < 2) {
			bad(w, n, V2X_E_TRUNCATED);
			return;
		}
		size_t rec = (size_t)in[pos] << 8 | in[pos + 1];
		pos += 2;
		if (rec > len - pos) {
			bad(w, n, V2X_E_TRUNCATED);
			return;
		}
		decode_one(o, w, n, in + pos, rec);
		pos += rec;
	}
}

static int parse_codec(const char *s, enum codec *c)
{
	if (strcmp(s, "uper") == 0)
		*c = CODEC_UPER;
	else if (strcmp(s, "msgpack") == 0)
		*c = CODEC_MSGPACK;
	else
		return -1;
	return 0;
}

static int parse_framing(const char *s, int *f)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {
		{ "auto", V2X_FRAMING_AUTO },
		{ "raw", V2X_FRAMING_RAW },
		{ "1609.2", V2X_FRAMING_1609_2 },
		{ "wsmp", V2X_FRAMING_WSMP },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*f = names[i].value;
			return 0;
		}
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "hex", no_argument, NULL, 'x' },
		{ "stream", no_argument, NULL, 's' },
		{ "framing", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->framing = V2X_FRAMING_AUTO;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 't':
			if (parse_codec(optarg, &o->codec) < 0) {
				fprintf(stderr, "v2x-codec: unknown codec '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'x':
			o->hex = true;
			break;
		case 's':
			o->stream = true;
			break;
		case 'F':
			if (parse_framing(optarg, &o->framing) < 0) {
				fprintf(stderr, "v2x-codec: unknown framing '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("v2x-codec %s\n", V2X_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "decode") == 0) {
		o->encode = false;
	} else if (strcmp(argv[optind], "encode") == 0) {
		o->encode = true;
	} else {
		fprintf(stderr, "v2x-codec: unknown command '%s'\n", argv[optind]);
		return 2;
	}
	if (o->codec == CODEC_NONE) {
		fprintf(stderr, "v2x-codec: %s needs %s uper|msgpack\n",
			argv[optind], o->encode ? "--to" : "--from");
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct work w = { 0 };
	char *in = NULL;
	size_t len = 0;
	int rc = parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	/* --from and --to both name the codec; either is accepted with
	 * either command. */
	w.unit = o.hex || o.encode ? "line" : "message";
	w.dec = v2x_msgpack_decoder_new();
	w.j2735 = malloc(sizeof(*w.j2735));
	w.msg = malloc(sizeof(*w.msg));
	w.bin = malloc(MSG_MAX);
	w.json = malloc(JSON_MAX);
	in = read_all(&len);
	if (!w.dec || !w.j2735 || !w.msg || !w.bin || !w.json || !in) {
		fprintf(stderr, "v2x-codec: %s\n", strerror(errno ? errno : ENOMEM));
		rc = 2;
		goto out;
	}
	/* Hex text is auto-detected in plain binary mode (not --stream). */
	if (!o.encode && !o.hex && !o.stream && looks_hex(in, len)) {
		o.hex = true;
		w.unit = "line";
	}
	if (o.hex || o.encode)
		run_lines(&o, &w, in, len);
	else
		run_binary(&o, &w, (const uint8_t *)in, len);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "v2x-codec: write: %s\n", strerror(errno));
		rc = 2;
		goto out;
	}
	rc = w.bad ? 1 : 0;
out:
	free(in);
	free(w.json);
	free(w.bin);
	free(w.msg);
	free(w.j2735);
	v2x_msgpack_decoder_free(w.dec);
	return rc;
}
