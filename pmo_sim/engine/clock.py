"""Working time: the calendar's down-time (holidays, closures) in the engine's time line.

Time in pmo-sim is counted in working days (SPEC 2). A calendar can still stop everything
for a while (a public holiday, a December closure): during such *down-time* nothing
progresses — running tasks stand still, nothing starts — while people stay employed and
paid. :class:`Downtime` answers the two questions the engine asks:

- ``advance(a, work)``: if ``work`` days of work start at day ``a``, on which day are they
  done? (the end is pushed back by every down-time interval met on the way);
- ``open_between(a, b)``: how many working days of ``[a, b]`` are not down-time?

Both are a binary search over the sorted, disjoint intervals of
:func:`pmo_sim.scenario.calendar.downtime` and their cumulative lengths.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import NORMAL, URGENT, BoundClass
from simpy.events import EventPriority


class Downtime:
    """Sorted, disjoint intervals [start, end) during which nothing progresses."""

    __slots__ = ("starts", "ends", "before")

    def __init__(self, intervals: Sequence[tuple[float, float]]):
        self.starts = [a for a, _ in intervals]
        self.ends = [b for _, b in intervals]
        # before[i]: total down-time in the intervals before interval i
        self.before = [0.0]
        for a, b in intervals:
            self.before.append(self.before[-1] + (b - a))

    def down_until(self, t: float) -> float:
        """Down-time in [0, t]."""
        i = bisect_right(self.starts, t) - 1  # the last interval starting at or before t
        if i < 0:
            return 0.0
        return self.before[i] + min(t, self.ends[i]) - self.starts[i]

    def open_between(self, a: float, b: float) -> float:
        """Working days of [a, b] outside down-time."""
        return (b - a) - (self.down_until(b) - self.down_until(a))

    def advance(self, a: float, work: float) -> float:
        """The day on which ``work`` days of work starting at day ``a`` are done."""
        i = bisect_right(self.starts, a) - 1
        t = a
        if i >= 0 and a < self.ends[i]:  # starting inside a down-time: wait for its end
            t = self.ends[i]
        left = work
        j = i + 1
        while j < len(self.starts) and self.starts[j] < t + left:
            left -= self.starts[j] - t
            t = self.ends[j]
            j += 1
        return t + left

    def inside(self, t: float) -> bool:
        """Is day ``t`` in down-time?"""
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]


class Clock(simpy.Environment):
    """SimPy's environment, with *direct entries*: an object of the class set in
    :attr:`direct_class` may be put in the event queue as it is (:meth:`schedule_direct`), no
    event made for it, and when its time comes it is handed to :attr:`direct_handler`.

    NOTE: a task's completion is what the engine schedules most (one per task started): as a
    SimPy ``Timeout`` with a callback it costs an event object, a callback list and a call to
    make them; as a direct entry it is one tuple pushed on the queue, in the same place (the
    same time, priority and event id, so the same order and the same ``events`` count).
    :func:`run_until` hands direct entries over without an event; so does :meth:`step`, so
    that SimPy's own ``run`` works as well.
    """

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        # NOTE: SimPy binds ``timeout``, ``event``, ``process``... to the environment once
        # (BoundClass.bind_early), but only those of the instance's own class: for a subclass,
        # every ``env.timeout(...)`` would go through the descriptor and make a bound method.
        for name, attr in vars(simpy.Environment).items():
            if type(attr) is BoundClass:
                setattr(self, name, getattr(self, name))
        self.direct_class: type | None = None
        self.direct_handler: Callable[[Any], Any] | None = None

    def schedule_direct(self, subject: Any, delay: float) -> None:
        """Hand ``subject`` (a :attr:`direct_class`) to :attr:`direct_handler` ``delay`` from now."""
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), subject))

    def step(self) -> None:
        queue = self._queue
        if queue and queue[0][3].__class__ is self.direct_class:
            self._now, _, _, subject = heappop(queue)
            self.direct_handler(subject)  # type: ignore[misc]  # (set with the class)
            return
        super().step()


def run_until(env: simpy.Environment, at: float) -> None:
    """Process ``env``'s events up to day ``at``: exactly ``env.run(until=at)``, faster.

    NOTE: SimPy's ``run`` calls ``Environment.step`` once per event, inside a ``try``; this is
    the same loop written out (one function call less per event, the hottest loop of a
    replication), handing a :class:`Clock`'s direct entries to their handlers. It leaves the
    environment as SimPy does — the stop event scheduled first at ``at`` and, when reached,
    put back in the queue with priority -1 — so event ids, and with them the ``events`` KPI
    and every tie-break between events of one instant, are unchanged. Events are processed in
    the same order with the same failure rule: an event that failed and was not defused stops
    the run with a copy of its exception.
    """
    if at <= env._now:
        raise ValueError(f"until ({at}) must be greater than the current simulation time")
    stop = simpy.events.Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, at - env._now)
    queue = env._queue
    direct, handler = (env.direct_class, env.direct_handler) if isinstance(env, Clock) else (None, None)
    while queue:
        env._now, _, _, event = heappop(queue)
        if event.__class__ is direct:  # a direct entry (a task's completion): its handler (hot path)
            handler(event)  # type: ignore[misc]  # (set with the class)
            continue
        if event is stop:
            # What StopSimulation does in SimPy: the stop goes back, to be processed first
            # should the run continue.
            env.schedule(stop, EventPriority(-1))
            return
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
    raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {stop}')
