/* SPDX-License-Identifier: MIT */
/*
 * hex.c - hex text <-> octets (see hex.h).
 */
#include "hex.h"

#include "v2x/error.h"

/* hex__nibble() - see hex.h. */
int hex__nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex__decode() - see hex.h. */
int hex__decode(const char *text, size_t len, uint8_t *out, size_t cap,
		bool spaces)
{
	size_t n = 0;
	int hi = -1;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)text[i];
		int v;

		if (spaces && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		v = hex__nibble(c);
		if (v < 0)
			return V2X_E_SYNTAX;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return V2X_E_LIMIT;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return V2X_E_SYNTAX;
	return (int)n;
}

/* hex__encode() - see hex.h. */
void hex__encode(const uint8_t *p, size_t n, char *out, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
