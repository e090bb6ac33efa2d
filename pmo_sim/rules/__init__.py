"""The PMO's decision rules as small functions behind registries (allocation, funding...).

Rules sit at the bottom of the import stack, below the scenario language, because three
readers share each registry: validation (an unknown rule is a located error), the command
line (``click.Choice``) and the roles in :mod:`pmo_sim.pmo` that apply them. A rule only sees
the attributes its Protocol names, so it needs nothing from the engine.
"""
