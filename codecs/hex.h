/* SPDX-License-Identifier: MIT */
/*
 * hex.h - hex text <-> octets, shared by the JER printer/parser (jer.c) and
 * the v2x-codec command line.  Module-internal to codecs/.
 */
#ifndef V2X_CODECS_HEX_H
#define V2X_CODECS_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* hex__nibble() - value 0..15 of a hex digit (either case), or -1. */
int hex__nibble(int c);

/*
 * hex__decode() - hex text to octets.  With spaces, blanks, tabs, CRs and
 * newlines between digits are skipped; without, any of them is an error.
 * Returns the octet count, V2X_E_SYNTAX for a non-hex character or an odd
 * number of digits, V2X_E_LIMIT if the octets do not fit in cap.
 */
int hex__decode(const char *text, size_t len, uint8_t *out, size_t cap,
		bool spaces);

/*
 * hex__encode() - write the 2 * n hex digits of p[0..n) and a NUL to out
 * (which must hold 2 * n + 1 characters), upper or lower case.
 */
void hex__encode(const uint8_t *p, size_t n, char *out, bool upper);

#endif
