/* SPDX-License-Identifier: MIT */
/*
 * pipeline.h - the stages run to completion in one thread.
 *
 * With a thread per stage, every hand-off between ingest, fusion and
 * publish is a wake-up of another thread; on a machine where the broker has
 * one CPU to itself those threads only take turns on it, and each turn costs
 * a context switch and cold caches.  The single pipeline runs the same
 * stages, through the same rings and with the same accounting, in one
 * thread: wait for datagrams (or the next timer), decode them into the
 * ingest ring, run fusion over everything waiting, publish everything
 * fusion produced, repeat.  No stage ever blocks on an output: the rings
 * still bound each stage and a full one is counted per stage.
 */
#ifndef V2X_BROKER_PIPELINE_H
#define V2X_BROKER_PIPELINE_H

#include "counters.h"
#include "fusion.h"
#include "ingest.h"
#include "pub_zmq.h"
#include "ring.h"

struct pipeline;

/*
 * pipeline_start() - start the thread that runs @in, @fu and @pz; fusion
 * must have been prepared (fusion_prepare()), none of the three started.
 * The thread's CPU time goes to @cnt (THREAD_PIPELINE).  Returns the
 * pipeline, or NULL with errno set.
 */
struct pipeline *pipeline_start(struct ingest *in, struct fusion *fu,
				struct pub_zmq *pz, struct ring *ring_in,
				struct ring *ring_out, struct broker_counters *cnt);

/*
 * pipeline_stop() - stop ingest, let fusion and publish drain both rings,
 * join the thread and free it.  NULL is a no-op.
 */
void pipeline_stop(struct pipeline *p);

/*
 * pipeline_single_cpu() - 1 if this process may run on one CPU only (its
 * affinity mask), the case the single pipeline is the default for.
 */
int pipeline_single_cpu(void);

#endif
