/* SPDX-License-Identifier: MIT */
/*
 * j2735_schema.c - the J2735 types the codec models, written from the
 * published structure of SAE J2735 (2016/2020): names, ranges, optionality
 * and extension markers.  docs/j2735.md lists the sources.  No SAE ASN.1 text
 * is reproduced here; each definition is our own transcription as data.
 *
 * Conventions: F() a mandatory component, O() an OPTIONAL one; the second
 * macro argument "e" is 1 where the ASN.1 type has an extension marker "..."
 * (or an extensible size constraint "SIZE(n, ...)").
 */
#include <string.h>

#include "j2735_schema.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define INT(id, nm, l, u)                                                  \
	static const struct v2x_j2735_type id = { .name = nm,              \
						  .kind = J2735_INT,       \
						  .lb = (l),               \
						  .ub = (u) }
#define ENUM(id, nm, e, ...)                                               \
	static const char *const id##_names[] = { __VA_ARGS__ };           \
	static const struct v2x_j2735_type id = {                          \
		.name = nm,                                                \
		.kind = J2735_ENUM,                                        \
		.ext = (e),                                                \
		.nfields = NELEM(id##_names),                              \
		.names = id##_names }
#define STR(id, nm, k, l, u, e)                                            \
	static const struct v2x_j2735_type id = {                          \
		.name = nm, .kind = (k), .ext = (e), .lb = (l), .ub = (u) }
#define BITS(id, nm, l, u, e) STR(id, nm, J2735_BITS, l, u, e)
#define OCTETS(id, nm, l, u) STR(id, nm, J2735_OCTETS, l, u, 0)
#define IA5(id, nm, l, u) STR(id, nm, J2735_IA5, l, u, 0)
#define FIELDS(id, ...) static const struct j2735_field id##_f[] = { __VA_ARGS__ }
#define SEQ_(qual, id, nm, e, ...)                                          \
	FIELDS(id, __VA_ARGS__);                                           \
	qual const struct v2x_j2735_type id = {                            \
		.name = nm,                                                \
		.kind = J2735_SEQ,                                         \
		.ext = (e),                                                \
		.nfields = NELEM(id##_f),                                  \
		.fields = id##_f }
#define SEQ(id, nm, e, ...) SEQ_(static, id, nm, e, __VA_ARGS__)
#define CHOICE(id, nm, e, ...)                                             \
	FIELDS(id, __VA_ARGS__);                                           \
	static const struct v2x_j2735_type id = {                          \
		.name = nm,                                                \
		.kind = J2735_CHOICE,                                      \
		.ext = (e),                                                \
		.nfields = NELEM(id##_f),                                  \
		.fields = id##_f }
#define SEQOF(id, nm, l, u, c, el)                                         \
	static const struct v2x_j2735_type id = { .name = nm,              \
						  .kind = J2735_SEQOF,     \
						  .lb = (l),               \
						  .ub = (u),               \
						  .cap = (c),              \
						  .elem = &(el) }
#define OPEN(id, nm, by)                                                   \
	static const struct v2x_j2735_type id = { .name = nm,              \
						  .kind = J2735_OPEN,      \
						  .open_by = (by) }
#define F(n, t) { n, &(t), 0 }
#define O(n, t) { n, &(t), 1 }

static const struct v2x_j2735_type t_bool = { .name = "BOOLEAN",
					      .kind = J2735_BOOL };

/* ---- common data elements ---- */
INT(t_MsgCount, "MsgCount", 0, 127);
OCTETS(t_TemporaryID, "TemporaryID", 4, 4);
INT(t_DSecond, "DSecond", 0, 65535);
INT(t_Latitude, "Latitude", -900000000, 900000001);
INT(t_Longitude, "Longitude", -1799999999, 1800000001);
INT(t_Elevation, "Elevation", -4096, 61439);
INT(t_SemiMajorAxisAccuracy, "SemiMajorAxisAccuracy", 0, 255);
INT(t_SemiMinorAxisAccuracy, "SemiMinorAxisAccuracy", 0, 255);
INT(t_SemiMajorAxisOrientation, "SemiMajorAxisOrientation", 0, 65535);
SEQ(t_PositionalAccuracy, "PositionalAccuracy", 0,
    F("semiMajor", t_SemiMajorAxisAccuracy),
    F("semiMinor", t_SemiMinorAxisAccuracy),
    F("orientation", t_SemiMajorAxisOrientation));
ENUM(t_TransmissionState, "TransmissionState", 0, "neutral", "park",
     "forwardGears", "reverseGears", "reserved1", "reserved2", "reserved3",
     "unavailable");
INT(t_Speed, "Speed", 0, 8191);
INT(t_Heading, "Heading", 0, 28800);
INT(t_SteeringWheelAngle, "SteeringWheelAngle", -126, 127);
INT(t_Acceleration, "Acceleration", -2000, 2001);
INT(t_VerticalAcceleration, "VerticalAcceleration", -127, 127);
INT(t_YawRate, "YawRate", -32767, 32767);
SEQ(t_AccelerationSet4Way, "AccelerationSet4Way", 0,
    F("long", t_Acceleration), F("lat", t_Acceleration),
    F("vert", t_VerticalAcceleration), F("yaw", t_YawRate));
BITS(t_BrakeAppliedStatus, "BrakeAppliedStatus", 5, 5, 0);
ENUM(t_TractionControlStatus, "TractionControlStatus", 0, "unavailable", "off",
     "on", "engaged");
ENUM(t_AntiLockBrakeStatus, "AntiLockBrakeStatus", 0, "unavailable", "off",
     "on", "engaged");
ENUM(t_StabilityControlStatus, "StabilityControlStatus", 0, "unavailable",
     "off", "on", "engaged");
ENUM(t_BrakeBoostApplied, "BrakeBoostApplied", 0, "unavailable", "off", "on");
ENUM(t_AuxiliaryBrakeStatus, "AuxiliaryBrakeStatus", 0, "unavailable", "off",
     "on", "reserved");
SEQ(t_BrakeSystemStatus, "BrakeSystemStatus", 0,
    F("wheelBrakes", t_BrakeAppliedStatus),
    F("traction", t_TractionControlStatus), F("abs", t_AntiLockBrakeStatus),
    F("scs", t_StabilityControlStatus), F("brakeBoost", t_BrakeBoostApplied),
    F("auxBrakes", t_AuxiliaryBrakeStatus));
INT(t_VehicleWidth, "VehicleWidth", 0, 1023);
INT(t_VehicleLength, "VehicleLength", 0, 4095);
SEQ(t_VehicleSize, "VehicleSize", 0, F("width", t_VehicleWidth),
    F("length", t_VehicleLength));

/* RegionalExtension: the value is kept opaque (region-specific content). */
INT(t_RegionId, "RegionId", 0, 255);
OPEN(t_RegExtValue, "RegExtValue", J2735_OPEN_OPAQUE);
SEQ(t_RegionalExtension, "RegionalExtension", 0, F("regionId", t_RegionId),
    F("regExtValue", t_RegExtValue));
SEQOF(t_Regional, "SEQUENCE (SIZE(1..4)) OF RegionalExtension", 1, 4, 4,
      t_RegionalExtension);

/* ---- BSM ---- */
SEQ(t_BSMcoreData, "BSMcoreData", 0, F("msgCnt", t_MsgCount),
    F("id", t_TemporaryID), F("secMark", t_DSecond), F("lat", t_Latitude),
    F("long", t_Longitude), F("elev", t_Elevation),
    F("accuracy", t_PositionalAccuracy),
    F("transmission", t_TransmissionState), F("speed", t_Speed),
    F("heading", t_Heading), F("angle", t_SteeringWheelAngle),
    F("accelSet", t_AccelerationSet4Way), F("brakes", t_BrakeSystemStatus),
    F("size", t_VehicleSize));

BITS(t_VehicleEventFlags, "VehicleEventFlags", 13, 13, 1);
BITS(t_ExteriorLights, "ExteriorLights", 9, 9, 1);
BITS(t_GNSSstatus, "GNSSstatus", 8, 8, 0);
INT(t_OffsetLL_B18, "OffsetLL-B18", -131072, 131071);
INT(t_VertOffset_B12, "VertOffset-B12", -2048, 2047);
INT(t_TimeOffset, "TimeOffset", 1, 65535);
INT(t_CoarseHeading, "CoarseHeading", 0, 240);
SEQ(t_PathHistoryPoint, "PathHistoryPoint", 1, F("latOffset", t_OffsetLL_B18),
    F("lonOffset", t_OffsetLL_B18), F("elevationOffset", t_VertOffset_B12),
    F("timeOffset", t_TimeOffset), O("speed", t_Speed),
    O("posAccuracy", t_PositionalAccuracy), O("heading", t_CoarseHeading));
SEQOF(t_PathHistoryPointList, "PathHistoryPointList", 1, 23, 23,
      t_PathHistoryPoint);
INT(t_DYear, "DYear", 0, 4095);
INT(t_DMonth, "DMonth", 0, 12);
INT(t_DDay, "DDay", 0, 31);
INT(t_DHour, "DHour", 0, 31);
INT(t_DMinute, "DMinute", 0, 60);
INT(t_DOffset, "DOffset", -840, 840);
SEQ(t_DDateTime, "DDateTime", 0, O("year", t_DYear), O("month", t_DMonth),
    O("day", t_DDay), O("hour", t_DHour), O("minute", t_DMinute),
    O("second", t_DSecond), O("offset", t_DOffset));
/* "transmisson" is spelled so in J2735. */
SEQ(t_TransmissionAndSpeed, "TransmissionAndSpeed", 0,
    F("transmisson", t_TransmissionState), F("speed", t_Speed));
ENUM(t_TimeConfidence, "TimeConfidence", 0, "unavailable", "time-100-000",
     "time-050-000", "time-020-000", "time-010-000", "time-002-000",
     "time-001-000", "time-000-500", "time-000-200", "time-000-100",
     "time-000-050", "time-000-020", "time-000-010", "time-000-005",
     "time-000-002", "time-000-001", "time-000-000-5", "time-000-000-2",
     "time-000-000-1", "time-000-000-05", "time-000-000-02",
     "time-000-000-01", "time-000-000-005", "time-000-000-002",
     "time-000-000-001", "time-000-000-000-5", "time-000-000-000-2",
     "time-000-000-000-1", "time-000-000-000-05", "time-000-000-000-02",
     "time-000-000-000-01", "time-000-000-000-005", "time-000-000-000-002",
     "time-000-000-000-001", "time-000-000-000-000-5",
     "time-000-000-000-000-2", "time-000-000-000-000-1",
     "time-000-000-000-000-05", "time-000-000-000-000-02",
     "time-000-000-000-000-01");
ENUM(t_PositionConfidence, "PositionConfidence", 0, "unavailable", "a500m",
     "a200m", "a100m", "a50m", "a20m", "a10m", "a5m", "a2m", "a1m", "a50cm",
     "a20cm", "a10cm", "a5cm", "a2cm", "a1cm");
ENUM(t_ElevationConfidence, "ElevationConfidence", 0, "unavailable",
     "elev-500-00", "elev-200-00", "elev-100-00", "elev-050-00",
     "elev-020-00", "elev-010-00", "elev-005-00", "elev-002-00",
     "elev-001-00", "elev-000-50", "elev-000-20", "elev-000-10",
     "elev-000-05", "elev-000-02", "elev-000-01");
SEQ(t_PositionConfidenceSet, "PositionConfidenceSet", 0,
    F("pos", t_PositionConfidence), F("elevation", t_ElevationConfidence));
ENUM(t_HeadingConfidence, "HeadingConfidence", 0, "unavailable", "prec10deg",
     "prec05deg", "prec01deg", "prec0-1deg", "prec0-05deg", "prec0-01deg",
     "prec0-0125deg");
ENUM(t_SpeedConfidence, "SpeedConfidence", 0, "unavailable", "prec100ms",
     "prec10ms", "prec5ms", "prec1ms", "prec0-1ms", "prec0-05ms",
     "prec0-01ms");
ENUM(t_ThrottleConfidence, "ThrottleConfidence", 0, "unavailable",
     "prec10percent", "prec1percent", "prec0-5percent");
SEQ(t_SpeedandHeadingandThrottleConfidence,
    "SpeedandHeadingandThrottleConfidence", 0,
    F("heading", t_HeadingConfidence), F("speed", t_SpeedConfidence),
    F("throttle", t_ThrottleConfidence));
SEQ(t_FullPositionVector, "FullPositionVector", 1, O("utcTime", t_DDateTime),
    F("long", t_Longitude), F("lat", t_Latitude),
    O("elevation", t_Elevation), O("heading", t_Heading),
    O("speed", t_TransmissionAndSpeed),
    O("posAccuracy", t_PositionalAccuracy),
    O("timeConfidence", t_TimeConfidence),
    O("posConfidence", t_PositionConfidenceSet),
    O("speedConfidence", t_SpeedandHeadingandThrottleConfidence));
SEQ(t_PathHistory, "PathHistory", 1,
    O("initialPosition", t_FullPositionVector),
    O("currGNSSstatus", t_GNSSstatus),
    F("crumbData", t_PathHistoryPointList));
INT(t_RadiusOfCurvature, "RadiusOfCurvature", -32767, 32767);
INT(t_Confidence, "Confidence", 0, 200);
SEQ(t_PathPrediction, "PathPrediction", 1,
    F("radiusOfCurve", t_RadiusOfCurvature), F("confidence", t_Confidence));
SEQ_(, j2735__VehicleSafetyExtensions, "VehicleSafetyExtensions", 1,
     O("events", t_VehicleEventFlags), O("pathHistory", t_PathHistory),
     O("pathPrediction", t_PathPrediction), O("lights", t_ExteriorLights));

INT(t_PartII_Id, "PartII-Id", 0, 63);
OPEN(t_PartII_Value, "PartII-Value", J2735_OPEN_PART2_ID);
SEQ(t_PartIIcontent, "PartIIcontent", 0, F("partII-Id", t_PartII_Id),
    F("partII-Value", t_PartII_Value));
SEQOF(t_PartII, "SEQUENCE (SIZE(1..8)) OF PartIIcontent", 1, 8, 8,
      t_PartIIcontent);
SEQ_(, j2735__BasicSafetyMessage, "BasicSafetyMessage", 1,
     F("coreData", t_BSMcoreData), O("partII", t_PartII),
     O("regional", t_Regional));

/* ---- SPaT ---- */
INT(t_MinuteOfTheYear, "MinuteOfTheYear", 0, 527040);
IA5(t_DescriptiveName, "DescriptiveName", 1, 63);
INT(t_RoadRegulatorID, "RoadRegulatorID", 0, 65535);
INT(t_IntersectionID, "IntersectionID", 0, 65535);
SEQ(t_IntersectionReferenceID, "IntersectionReferenceID", 0,
    O("region", t_RoadRegulatorID), F("id", t_IntersectionID));
BITS(t_IntersectionStatusObject, "IntersectionStatusObject", 16, 16, 0);
INT(t_LaneID, "LaneID", 0, 255);
SEQOF(t_EnabledLaneList, "EnabledLaneList", 1, 16, 16, t_LaneID);
INT(t_SignalGroupID, "SignalGroupID", 0, 255);
ENUM(t_MovementPhaseState, "MovementPhaseState", 0, "unavailable", "dark",
     "stop-Then-Proceed", "stop-And-Remain", "pre-Movement",
     "permissive-Movement-Allowed", "protected-Movement-Allowed",
     "permissive-clearance", "protected-clearance",
     "caution-Conflicting-Traffic");
INT(t_TimeMark, "TimeMark", 0, 36001);
INT(t_TimeIntervalConfidence, "TimeIntervalConfidence", 0, 15);
SEQ(t_TimeChangeDetails, "TimeChangeDetails", 0, O("startTime", t_TimeMark),
    F("minEndTime", t_TimeMark), O("maxEndTime", t_TimeMark),
    O("likelyTime", t_TimeMark), O("confidence", t_TimeIntervalConfidence),
    O("nextTime", t_TimeMark));
ENUM(t_AdvisorySpeedType, "AdvisorySpeedType", 1, "none", "greenwave",
     "ecoDrive", "transit");
INT(t_SpeedAdvice, "SpeedAdvice", 0, 500);
INT(t_ZoneLength, "ZoneLength", 0, 10000);
INT(t_RestrictionClassID, "RestrictionClassID", 0, 255);
SEQ(t_AdvisorySpeed, "AdvisorySpeed", 1, F("type", t_AdvisorySpeedType),
    O("speed", t_SpeedAdvice), O("confidence", t_SpeedConfidence),
    O("distance", t_ZoneLength), O("class", t_RestrictionClassID),
    O("regional", t_Regional));
SEQOF(t_AdvisorySpeedList, "AdvisorySpeedList", 1, 16, 16, t_AdvisorySpeed);
SEQ(t_MovementEvent, "MovementEvent", 1,
    F("eventState", t_MovementPhaseState), O("timing", t_TimeChangeDetails),
    O("speeds", t_AdvisorySpeedList), O("regional", t_Regional));
SEQOF(t_MovementEventList, "MovementEventList", 1, 16, 8, t_MovementEvent);
INT(t_LaneConnectionID, "LaneConnectionID", 0, 255);
SEQ(t_ConnectionManeuverAssist, "ConnectionManeuverAssist", 1,
    F("connectionID", t_LaneConnectionID), O("queueLength", t_ZoneLength),
    O("availableStorageLength", t_ZoneLength), O("waitOnStop", t_bool),
    O("pedBicycleDetect", t_bool), O("regional", t_Regional));
SEQOF(t_ManeuverAssistList, "ManeuverAssistList", 1, 16, 16,
      t_ConnectionManeuverAssist);
SEQ(t_MovementState, "MovementState", 1,
    O("movementName", t_DescriptiveName), F("signalGroup", t_SignalGroupID),
    F("state-time-speed", t_MovementEventList),
    O("maneuverAssistList", t_ManeuverAssistList), O("regional", t_Regional));
SEQOF(t_MovementList, "MovementList", 1, 255, 64, t_MovementState);
SEQ(t_IntersectionState, "IntersectionState", 1,
    O("name", t_DescriptiveName), F("id", t_IntersectionReferenceID),
    F("revision", t_MsgCount), F("status", t_IntersectionStatusObject),
    O("moy", t_MinuteOfTheYear), O("timeStamp", t_DSecond),
    O("enabledLanes", t_EnabledLaneList), F("states", t_MovementList),
    O("maneuverAssistList", t_ManeuverAssistList), O("regional", t_Regional));
SEQOF(t_IntersectionStateList, "IntersectionStateList", 1, 32, 8,
      t_IntersectionState);
SEQ_(, j2735__SPAT, "SPAT", 1, O("timeStamp", t_MinuteOfTheYear),
     O("name", t_DescriptiveName),
     F("intersections", t_IntersectionStateList), O("regional", t_Regional));

/* ---- PSM ---- */
ENUM(t_PersonalDeviceUserType, "PersonalDeviceUserType", 1, "unavailable",
     "aPEDESTRIAN", "aPEDALCYCLIST", "aPUBLICSAFETYWORKER", "anANIMAL");
SEQ(t_Position3D, "Position3D", 1, F("lat", t_Latitude),
    F("long", t_Longitude), O("elevation", t_Elevation),
    O("regional", t_Regional));
INT(t_Velocity, "Velocity", 0, 8191);
ENUM(t_HumanPropelledType, "HumanPropelledType", 1, "unavailable",
     "otherTypes", "onFoot", "skateboard", "pushOrTricycle", "wheelchair",
     "otherWheeled");
ENUM(t_AnimalPropelledType, "AnimalPropelledType", 1, "unavailable",
     "otherTypes", "animalMounted", "animalDrawnCarriage");
ENUM(t_MotorizedPropelledType, "MotorizedPropelledType", 1, "unavailable",
     "otherTypes", "wheelChair", "bicycle", "scooter",
     "selfBalancingDevice");
CHOICE(t_PropelledInformation, "PropelledInformation", 1,
       F("human", t_HumanPropelledType), F("animal", t_AnimalPropelledType),
       F("motor", t_MotorizedPropelledType));
BITS(t_PersonalDeviceUsageState, "PersonalDeviceUsageState", 9, 9, 1);
ENUM(t_NumberOfParticipantsInCluster, "NumberOfParticipantsInCluster", 1,
     "unavailable", "small", "medium", "large");
INT(t_PersonalClusterRadius, "PersonalClusterRadius", 0, 100);
ENUM(t_PublicSafetyEventResponderWorkerType,
     "PublicSafetyEventResponderWorkerType", 1, "unavailable", "towOperater",
     "fireAndEMSWorker", "aDOTWorker", "lawEnforcement", "hazmatResponder",
     "animalControlWorker", "otherPersonnel");
BITS(t_PublicSafetyAndRoadWorkerActivity, "PublicSafetyAndRoadWorkerActivity",
     6, 6, 1);
BITS(t_PublicSafetyDirectingTrafficSubType,
     "PublicSafetyDirectingTrafficSubType", 7, 7, 1);
BITS(t_PersonalAssistive, "PersonalAssistive", 6, 6, 1);
BITS(t_UserSizeAndBehaviour, "UserSizeAndBehaviour", 5, 5, 1);
ENUM(t_Attachment, "Attachment", 1, "unavailable", "stroller",
     "bicycleTrailer", "cart", "wheelchair", "otherWalkAssistAttachments",
     "pet");
INT(t_AttachmentRadius, "AttachmentRadius", 0, 200);
ENUM(t_AnimalType, "AnimalType", 1, "unavailable", "serviceUse", "pet",
     "farm");
SEQ_(, j2735__PersonalSafetyMessage, "PersonalSafetyMessage", 1,
     F("basicType", t_PersonalDeviceUserType), F("secMark", t_DSecond),
     F("msgCnt", t_MsgCount), F("id", t_TemporaryID),
     F("position", t_Position3D), F("accuracy", t_PositionalAccuracy),
     F("speed", t_Velocity), F("heading", t_Heading),
     O("accelSet", t_AccelerationSet4Way), O("pathHistory", t_PathHistory),
     O("pathPrediction", t_PathPrediction),
     O("propulsion", t_PropelledInformation),
     O("useState", t_PersonalDeviceUsageState),
     O("crossRequest", t_bool), O("crossState", t_bool),
     O("clusterSize", t_NumberOfParticipantsInCluster),
     O("clusterRadius", t_PersonalClusterRadius),
     O("eventResponderType", t_PublicSafetyEventResponderWorkerType),
     O("activityType", t_PublicSafetyAndRoadWorkerActivity),
     O("activitySubType", t_PublicSafetyDirectingTrafficSubType),
     O("assistType", t_PersonalAssistive),
     O("sizing", t_UserSizeAndBehaviour), O("attachment", t_Attachment),
     O("attachmentRadius", t_AttachmentRadius),
     O("animalType", t_AnimalType), O("regional", t_Regional));

/* ---- MessageFrame ---- */
INT(t_DSRCmsgID, "DSRCmsgID", 0, 32767);
OPEN(t_MessageFrameValue, "MessageFrameValue", J2735_OPEN_MSG_ID);
SEQ_(, j2735__MessageFrame, "MessageFrame", 1, F("messageId", t_DSRCmsgID),
     F("value", t_MessageFrameValue));

/*
 * j2735__open_type() - the type held by an open type with this id, or NULL
 * when it is kept as opaque bytes.
 */
const struct v2x_j2735_type *j2735__open_type(int open_by, int64_t id)
{
	if (open_by == J2735_OPEN_MSG_ID) {
		switch (id) {
		case 19:
			return &j2735__SPAT;
		case 20:
			return &j2735__BasicSafetyMessage;
		case 32:
			return &j2735__PersonalSafetyMessage;
		default:
			return NULL;
		}
	}
	if (open_by == J2735_OPEN_PART2_ID && id == 0)
		return &j2735__VehicleSafetyExtensions;
	return NULL;
}

/* j2735__field_index() - component or alternative index by name, or -1. */
int j2735__field_index(const struct v2x_j2735_type *t, const char *name)
{
	for (int i = 0; i < t->nfields; i++)
		if (!strcmp(t->fields[i].name, name))
			return i;
	return -1;
}

/* j2735__enum_index() - root identifier index by name, or -1. */
int j2735__enum_index(const struct v2x_j2735_type *t, const char *name)
{
	for (int i = 0; i < t->nfields; i++)
		if (!strcmp(t->names[i], name))
			return i;
	return -1;
}
