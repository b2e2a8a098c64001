/* SPDX-License-Identifier: MIT */
/*
 * v2x/j2735_types.h - the full-fidelity J2735 message: a MessageFrame held as
 * a tree of values in fixed-size, caller-allocated arrays (no pointers to
 * the heap, no allocation).  The tree follows the ASN.1 structure exactly
 * (see docs/j2735.md): one node per value, SEQUENCE components and SEQUENCE
 * OF elements in consecutive nodes, strings in bytes[].  Whatever the codec
 * does not model (unknown messageIds, Part II kinds other than
 * VehicleSafetyExtensions, regional extensions, extension additions) is kept
 * verbatim so that re-encoding reproduces the input bit for bit.
 *
 * Most users only pass the struct to v2x_j2735_decode(), _encode(),
 * _to_json(), _from_json(), _to_bsm() and _to_spat(); the node layout is
 * documented for tools that walk the tree.
 */
#ifndef V2X_J2735_TYPES_H
#define V2X_J2735_TYPES_H

#include <stdint.h>

/* Limits of one message; beyond them decode returns V2X_E_LIMIT. */
#define V2X_J2735_NODES_MAX 4096
#define V2X_J2735_BYTES_MAX 32768

/* Schema type of a node (internal to the codec, static storage). */
struct v2x_j2735_type;

/* node.flags */
#define V2X_J2735_F_OPAQUE 0x01 /* OPEN: contents kept as bytes, not decoded */
#define V2X_J2735_F_EXT 0x02    /* SEQUENCE: extension tail kept as bits;
				   CHOICE/ENUMERATED: value is an extension */

/*
 * One value.  By kind of type:
 *  INTEGER, BOOLEAN, ENUMERATED (root index), CHOICE (alternative index): val
 *  SEQUENCE: components in node[child .. child+n), present says if given;
 *            with F_EXT the extension tail (bitmap length, bitmap, open
 *            types) is bytes[ext_off ..] holding ext_bits bits
 *  SEQUENCE OF: n elements in node[child ..]
 *  CHOICE: the chosen value is node[child]; with F_EXT an unknown extension
 *          alternative number val whose open-type octets are bytes[ext_off],
 *          ext_bits / 8 octets
 *  BIT STRING: n bits in bytes[child ..], first bit in the MSB
 *  OCTET STRING, IA5String: n octets in bytes[child ..]
 *  open type: node[child] decoded, or with F_OPAQUE n octets in bytes[child]
 */
struct v2x_j2735_node {
	const struct v2x_j2735_type *type;
	int64_t val;
	uint32_t child;
	uint32_t n;
	uint32_t ext_off;
	uint32_t ext_bits;
	uint8_t present;
	uint8_t flags;
};

/* A MessageFrame.  node[0] is the MessageFrame SEQUENCE. */
struct v2x_j2735_msg {
	uint32_t message_id; /* copy of the messageId */
	uint32_t n_nodes;
	uint32_t n_bytes;
	struct v2x_j2735_node node[V2X_J2735_NODES_MAX];
	uint8_t bytes[V2X_J2735_BYTES_MAX];
};

#endif
