/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "v2x/error.h"
#include "v2x/msg.h"

static const char *const event_types[V2X_EVT_TYPE_COUNT] = {
	[V2X_EVT_STOPPED_VEHICLE] = "stopped_vehicle",
	[V2X_EVT_HARD_BRAKING] = "hard_braking",
	[V2X_EVT_WRONG_WAY] = "wrong_way",
	[V2X_EVT_SPEEDING] = "speeding",
	[V2X_EVT_CONGESTION] = "congestion",
	[V2X_EVT_COLLISION_RISK] = "collision_risk",
	[V2X_EVT_VRU_ON_ROAD] = "vru_on_road",
};

static const char *const event_statuses[] = {"new", "update", "cleared"};

static const char *const classes[V2X_CLASS_MAX + 1] = {
	"unknown", "car", "truck", "bus", "pedestrian", "cyclist",
};

static const char *const levels[] = {"free", "light", "moderate", "heavy"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *lookup(const char *const *names, int n, int value)
{
	return value >= 0 && value < n ? names[value] : NULL;
}

static int reverse(const char *const *names, int n, const char *name)
{
	if (!name)
		return V2X_E_RANGE;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return V2X_E_RANGE;
}

const char *v2x_event_type_name(int type)
{
	return lookup(event_types, COUNT(event_types), type);
}

const char *v2x_event_status_name(int status)
{
	return lookup(event_statuses, COUNT(event_statuses), status);
}

const char *v2x_class_name(int cls)
{
	return lookup(classes, COUNT(classes), cls);
}

const char *v2x_congestion_level_name(int level)
{
	return lookup(levels, COUNT(levels), level);
}

int v2x_event_type_from_name(const char *name)
{
	return reverse(event_types, COUNT(event_types), name);
}

int v2x_event_status_from_name(const char *name)
{
	return reverse(event_statuses, COUNT(event_statuses), name);
}

int v2x_class_from_name(const char *name)
{
	return reverse(classes, COUNT(classes), name);
}

int v2x_congestion_level_from_name(const char *name)
{
	return reverse(levels, COUNT(levels), name);
}
