"""The pure-Python floor of a discrete-event simulation: a heapq of callbacks and nothing else.

Every event of a discrete-event model, whatever it means, at least leaves the event queue,
calls its handler, and (in a model that keeps going) puts a successor on the queue. This is
that and nothing more: the queue is a ``heapq`` list of ``(time, sequence number, callback)``
(the sequence number breaks ties in scheduling order, as SimPy's event ids do, and keeps the
callbacks from ever being compared); each handler schedules one successor after a pre-drawn
exponential delay, so the queue holds a constant ``in_flight`` events: 24 by default, the
average length of pmo-sim's queue on the reference portfolio under fifo (running tasks,
pending change requests and leavers, the arrival process). No SimPy, no objects, no model
state: the lowest cost per event an event loop written in Python can have, which
``benchmarks/run.py`` sets against pmo-sim's CPU per model event (the ``events`` KPI).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable

#: Pre-drawn delays (a power of two, so the index wraps with a mask).
_DELAYS = [random.Random(0).expovariate(1.0) for _ in range(4096)]

Handler = Callable[[float], None]


def floor_loop(events: int, in_flight: int = 24) -> float:
    """Process ``events`` events of the minimal loop; returns the final clock."""
    delays, mask = _DELAYS, len(_DELAYS) - 1
    queue: list[tuple[float, int, Handler]] = []
    push, pop = heapq.heappush, heapq.heappop
    seq = itertools.count()
    count = 0

    def handler(now: float) -> None:  # a model event's least work: schedule what follows it
        nonlocal count
        count += 1
        push(queue, (now + delays[count & mask], next(seq), handler))

    for i in range(in_flight):
        push(queue, (delays[i], next(seq), handler))
    now = 0.0
    for _ in range(events):
        now, _, callback = pop(queue)
        callback(now)
    return now
