/* SPDX-License-Identifier: MIT */
/*
 * j2735_schema.h - module-internal description of the J2735 types the codec
 * models, as data.  One generic walker (j2735_msg.c) decodes and encodes
 * UPER from it, and jer.c prints and parses JSON from it, so that each ASN.1
 * definition is written down exactly once (j2735_schema.c).
 */
#ifndef V2X_J2735_SCHEMA_H
#define V2X_J2735_SCHEMA_H

#include <stdint.h>

#include "v2x/j2735_types.h"

/* Largest extension index (ENUMERATED value, CHOICE alternative) accepted. */
#define J2735_EXT_INDEX_MAX 0xffffff

enum j2735_kind {
	J2735_INT,
	J2735_ENUM,
	J2735_BOOL,
	J2735_NULL,
	J2735_BITS,
	J2735_OCTETS,
	J2735_IA5,
	J2735_SEQ,
	J2735_SEQOF,
	J2735_CHOICE,
	J2735_OPEN,
};

/* How an open type finds the type of its contents. */
enum j2735_open_by {
	J2735_OPEN_OPAQUE = 0,  /* always kept as bytes (RegionalExtension) */
	J2735_OPEN_MSG_ID = 1,  /* MessageFrame.value by messageId */
	J2735_OPEN_PART2_ID = 2 /* PartIIcontent.partII-Value by partII-Id */
};

struct j2735_field {
	const char *name;
	const struct v2x_j2735_type *type;
	uint8_t optional;
};

struct v2x_j2735_type {
	const char *name;  /* ASN.1 type name */
	uint8_t kind;      /* enum j2735_kind */
	uint8_t ext;       /* extension marker / extensible size constraint */
	uint8_t nfields;   /* SEQUENCE components, CHOICE alternatives, ENUM root */
	uint8_t open_by;   /* enum j2735_open_by */
	int64_t lb, ub;    /* INTEGER value range; size range otherwise */
	uint32_t cap;      /* SEQUENCE OF: most elements accepted (<= ub) */
	const struct j2735_field *fields;
	const struct v2x_j2735_type *elem;
	const char *const *names; /* ENUMERATED identifiers */
};

extern const struct v2x_j2735_type j2735__MessageFrame;
extern const struct v2x_j2735_type j2735__BasicSafetyMessage;
extern const struct v2x_j2735_type j2735__SPAT;
extern const struct v2x_j2735_type j2735__PersonalSafetyMessage;
extern const struct v2x_j2735_type j2735__VehicleSafetyExtensions;

/* The type an open type holds for an id, or NULL to keep it opaque. */
const struct v2x_j2735_type *j2735__open_type(int open_by, int64_t id);

/* Index of a named component / alternative / identifier, or -1. */
int j2735__field_index(const struct v2x_j2735_type *t, const char *name);
int j2735__enum_index(const struct v2x_j2735_type *t, const char *name);

#endif
