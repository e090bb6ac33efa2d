"""What crosses the boundary of the model: files that are not scenarios or results.

Sits beside the experiment layer: it may read scenarios and use the analysis functions,
never the engine.

- :mod:`~pmo_sim.io.history`: reading and validating a task history (CSV);
- :mod:`~pmo_sim.io.calibration`: fitting it per skill and writing a scenario fragment with
  a figure per fit (``pmo-sim fit``);
- :mod:`~pmo_sim.io.psplib`, :mod:`~pmo_sim.io.mpsplib`: PSPLIB and MPSPLIB scheduling
  instances read into scenarios (``pmo-sim import psplib``).
"""
