/* SPDX-License-Identifier: MIT */
/*
 * v2x/msg.h - the message model (contract, see docs/architecture.md).
 *
 * Fixed-size C structs, caller-allocated, no pointers inside: a message can
 * be copied with memcpy and handed through a ring.  Units are those of
 * SAE J2735 so that conversion between UPER, msgpack and JSON is lossless:
 * positions in 1e-7 degree, speed in 0.02 m/s, heading in 0.0125 degree.
 */
#ifndef V2X_MSG_H
#define V2X_MSG_H

#include <stdint.h>

/* J2735 "unavailable" values for the fields below. */
#define V2X_LAT_UNAVAILABLE 900000001
#define V2X_LON_UNAVAILABLE 1800000001
#define V2X_ELEV_UNAVAILABLE (-4096)
#define V2X_SPEED_UNAVAILABLE 8191
#define V2X_HEADING_UNAVAILABLE 28800
#define V2X_ANGLE_UNAVAILABLE 127
#define V2X_ACCEL_UNAVAILABLE 2001
#define V2X_VERT_ACCEL_UNAVAILABLE (-127)
#define V2X_YAW_UNAVAILABLE 0

enum v2x_msg_type {
	V2X_MSG_NONE = 0,
	V2X_MSG_BSM = 1,
	V2X_MSG_OBJECTS = 2,
	V2X_MSG_SPAT = 3,
	V2X_MSG_EVENT = 4,
};

/*
 * A vehicle's own state: the content of J2735 BSMcoreData, in raw J2735
 * integer units (see each field), plus the frame's sender time.
 */
struct v2x_bsm {
	uint64_t ts_ns;         /* sender time, ns since Unix epoch; 0 = unknown */
	uint32_t id;            /* TemporaryID, 4 octets read big-endian */
	uint8_t msg_cnt;        /* MsgCount 0..127 */
	uint16_t sec_mark;      /* DSecond 0..65535 ms within the minute */
	int32_t lat;            /* Latitude 1e-7 deg, -900000000..900000001 */
	int32_t lon;            /* Longitude 1e-7 deg, -1799999999..1800000001 */
	int32_t elev;           /* Elevation 0.1 m, -4096..61439 */
	uint8_t acc_semi_major; /* SemiMajorAxisAccuracy 0.05 m, 0..255 */
	uint8_t acc_semi_minor; /* SemiMinorAxisAccuracy 0.05 m, 0..255 */
	uint16_t acc_orient;    /* SemiMajorAxisOrientation 0..65535 */
	uint8_t transmission;   /* TransmissionState 0..7 */
	uint16_t speed;         /* Speed 0.02 m/s, 0..8191 */
	uint16_t heading;       /* Heading 0.0125 deg, 0..28800 */
	int8_t angle;           /* SteeringWheelAngle 1.5 deg, -126..127 */
	int16_t accel_long;     /* Acceleration 0.01 m/s2, -2000..2001 */
	int16_t accel_lat;      /* Acceleration 0.01 m/s2, -2000..2001 */
	int8_t accel_vert;      /* VerticalAcceleration 0.02 G, -127..127 */
	int16_t yaw_rate;       /* YawRate 0.01 deg/s, -32767..32767 */
	uint8_t wheel_brakes;   /* BrakeAppliedStatus, 5 bits, bit 0 = first */
	uint8_t traction;       /* TractionControlStatus 0..3 */
	uint8_t abs;            /* AntiLockBrakeStatus 0..3 */
	uint8_t scs;            /* StabilityControlStatus 0..3 */
	uint8_t brake_boost;    /* BrakeBoostApplied 0..2 */
	uint8_t aux_brakes;     /* AuxiliaryBrakeStatus 0..3 */
	uint16_t width_cm;      /* VehicleWidth cm, 0..1023 */
	uint16_t length_cm;     /* VehicleLength cm, 0..4095 */
	uint16_t events;        /* VehicleEventFlags bits 0..12 (Part II), 0 = none */
	uint8_t has_events;     /* 1 if Part II carried VehicleEventFlags */
};

/* Bit 7 of VehicleEventFlags in J2735 order: eventHardBraking. */
#define V2X_EVENT_FLAG_HARD_BRAKING (1u << 7)

enum v2x_obj_class {
	V2X_CLASS_UNKNOWN = 0,
	V2X_CLASS_CAR = 1,
	V2X_CLASS_TRUCK = 2,
	V2X_CLASS_BUS = 3,
	V2X_CLASS_PEDESTRIAN = 4,
	V2X_CLASS_CYCLIST = 5,
	V2X_CLASS_MAX = 5,
};

/* One object detected by a roadside sensor in one frame. */
struct v2x_object {
	uint32_t id;         /* sensor-local object id, stable while tracked */
	uint8_t cls;         /* enum v2x_obj_class */
	uint8_t confidence;  /* 0..100 % */
	int32_t lat;         /* 1e-7 deg */
	int32_t lon;         /* 1e-7 deg */
	uint16_t speed;      /* 0.02 m/s, 0..8191 */
	uint16_t heading;    /* 0.0125 deg, 0..28800 */
	uint16_t length_cm;  /* 0..4095 */
	uint16_t width_cm;   /* 0..1023 */
};

#define V2X_OBJECTS_MAX 128

/* One roadside-sensor frame: what a radar/camera/lidar saw at one time. */
struct v2x_objects {
	uint64_t ts_ns;      /* measurement time, ns since Unix epoch */
	uint32_t sensor_id;
	uint16_t n;          /* number of valid entries in obj[] */
	struct v2x_object obj[V2X_OBJECTS_MAX];
};

enum v2x_phase_state {
	/* Values of J2735 MovementPhaseState. */
	V2X_PHASE_UNAVAILABLE = 0,
	V2X_PHASE_DARK = 1,
	V2X_PHASE_STOP_THEN_PROCEED = 2,
	V2X_PHASE_STOP_AND_REMAIN = 3,      /* red */
	V2X_PHASE_PRE_MOVEMENT = 4,
	V2X_PHASE_PERMISSIVE_GREEN = 5,
	V2X_PHASE_PROTECTED_GREEN = 6,
	V2X_PHASE_PERMISSIVE_CLEARANCE = 7, /* yellow */
	V2X_PHASE_PROTECTED_CLEARANCE = 8,
	V2X_PHASE_CAUTION_CONFLICTING = 9,
};

#define V2X_TIMEMARK_UNKNOWN 36001

struct v2x_movement {
	uint8_t signal_group;  /* SignalGroupID 0..255 */
	uint8_t state;         /* enum v2x_phase_state */
	uint16_t min_end;      /* TimeMark 0.1 s in the hour, 36001 = unknown */
	uint16_t max_end;      /* TimeMark, 36001 = unknown */
	uint16_t likely;       /* TimeMark, 36001 = unknown */
};

#define V2X_SPAT_MOVEMENTS_MAX 32

/* Signal phase and timing of one intersection. */
struct v2x_spat {
	uint64_t ts_ns;
	uint32_t intersection_id; /* IntersectionReferenceID.id 0..65535 */
	uint16_t region;          /* 0 = none */
	uint8_t revision;         /* MsgCount 0..127 */
	uint16_t status;          /* IntersectionStatusObject, 16 bits */
	uint32_t moy;             /* MinuteOfTheYear 0..527040, 527040 = invalid */
	uint16_t time_stamp;      /* DSecond ms, 65535 = unavailable */
	uint8_t n;                /* valid entries in mv[] */
	struct v2x_movement mv[V2X_SPAT_MOVEMENTS_MAX];
};

enum v2x_event_type {
	V2X_EVT_STOPPED_VEHICLE = 0,
	V2X_EVT_HARD_BRAKING = 1,
	V2X_EVT_WRONG_WAY = 2,
	V2X_EVT_SPEEDING = 3,
	V2X_EVT_CONGESTION = 4,
	V2X_EVT_COLLISION_RISK = 5,
	V2X_EVT_VRU_ON_ROAD = 6,
	V2X_EVT_TYPE_COUNT = 7,
};

enum v2x_event_status {
	V2X_EVT_NEW = 0,
	V2X_EVT_UPDATE = 1,
	V2X_EVT_CLEARED = 2,
};

enum v2x_congestion_level {
	V2X_CONGESTION_FREE = 0,
	V2X_CONGESTION_LIGHT = 1,
	V2X_CONGESTION_MODERATE = 2,
	V2X_CONGESTION_HEAVY = 3,
};

/* Source kinds of an event or fused object, as a bit set. */
#define V2X_SRC_V2X (1u << 0)    /* vehicle's own BSM */
#define V2X_SRC_SENSOR (1u << 1) /* roadside sensor frame */

#define V2X_EVENT_TRACKS_MAX 8
#define V2X_EVENT_SENSORS_MAX 4

/* A fused traffic event (the msgpack payload is a contract: docs/wire.md). */
struct v2x_event {
	uint64_t ts_ns;       /* originating message time carried through */
	uint64_t id;          /* stable for the event's life */
	uint8_t type;         /* enum v2x_event_type */
	uint8_t status;       /* enum v2x_event_status */
	uint8_t severity;     /* 0..7, 7 most severe */
	uint8_t level;        /* enum v2x_congestion_level, congestion only */
	int32_t lat;          /* 1e-7 deg */
	int32_t lon;          /* 1e-7 deg */
	int32_t lane;         /* lane_id from the road map, -1 = none */
	int32_t segment;      /* segment_id from the road map, -1 = none */
	uint64_t start_ts_ns; /* when the event was first raised */
	uint64_t last_ts_ns;  /* last update */
	float confidence;     /* 0..1 */
	uint8_t sources;      /* V2X_SRC_* bits */
	uint8_t n_sensors;
	uint32_t sensors[V2X_EVENT_SENSORS_MAX]; /* sensor ids involved */
	uint8_t n_tracks;
	uint64_t tracks[V2X_EVENT_TRACKS_MAX];   /* involved track ids */
};

/* Any message of the model, tagged by type. */
struct v2x_msg {
	uint8_t type; /* enum v2x_msg_type */
	union {
		struct v2x_bsm bsm;
		struct v2x_objects objects;
		struct v2x_spat spat;
		struct v2x_event event;
	} u;
};

/* Stable names ("stopped_vehicle", "new", "car", ...); NULL if out of range. */
const char *v2x_event_type_name(int type);
const char *v2x_event_status_name(int status);
const char *v2x_class_name(int cls);
const char *v2x_congestion_level_name(int level);
/* Reverse lookups: the value, or V2X_E_RANGE for an unknown name. */
int v2x_event_type_from_name(const char *name);
int v2x_event_status_from_name(const char *name);
int v2x_class_from_name(const char *name);
int v2x_congestion_level_from_name(const char *name);

#endif
