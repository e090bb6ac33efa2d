"""Shared building blocks of the scenario models: the frozen, strict base, number and name types.

Every number is bounded (:data:`~pmo_sim.scenario.limits.MAX_MAGNITUDE`), so sums, costs and
draws stay finite, and every name is checked by :func:`pmo_sim.scenario.names.check_name`.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pmo_sim.scenario.limits import MAX_MAGNITUDE
from pmo_sim.scenario.names import check_name

NonNeg = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Pos = Annotated[float, Field(gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1), AfterValidator(check_name)]


class Model(BaseModel):
    """A scenario's part: closed (unknown keys refused) and frozen.

    ``defer_build``: pydantic builds a model's validator when it first validates, not when
    the class is defined. A run's worker processes only unpickle and read scenarios, never
    validate them, so the fork server they come from no longer builds every scenario model's
    validator (~0.1 s of its start, which a parallel run waits for); a process that loads a
    scenario builds those it uses, once, on its first load.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def build_validator(model: type[BaseModel]) -> None:
    """Build ``model``'s deferred validator now (:class:`Model`), a Ctrl+C or SIGTERM that
    arrives meanwhile delivered once it is built.

    pydantic-core turns an exception raised while it builds a validator (a KeyboardInterrupt
    from a signal handler running in the Python code it calls) into a SchemaError: a Ctrl+C
    there ended ``pmo-sim run`` with pages of pydantic's schema and exit 1, not
    "interrupted". The signals are noted, not blocked: another thread (numpy's BLAS threads)
    would take a signal the main thread blocks. Handlers can only be set in the main thread;
    elsewhere the build is simply done.
    """
    if model.__pydantic_complete__:
        return
    if threading.current_thread() is not threading.main_thread():
        model.model_rebuild()
        return
    noted: list[int] = []
    handlers = {sig: signal.signal(sig, lambda signum, _frame: noted.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(sig) is not None}  # (None: set outside Python, left alone)
    try:
        model.model_rebuild()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        for signum in noted[:1]:
            signal.raise_signal(signum)  # as it would have been handled, now
