/* SPDX-License-Identifier: MIT */
/* v2x/v2x.h - everything the codec library exports. */
#ifndef V2X_V2X_H
#define V2X_V2X_H

#include "v2x/error.h"
#include "v2x/j2735.h"
#include "v2x/msg.h"
#include "v2x/msgpack.h"

#endif
