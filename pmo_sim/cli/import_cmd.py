"""``pmo-sim import``: scenarios from the instance files of other tools.

``pmo-sim import psplib FILE`` reads a PSPLIB single-mode instance (``.sm``) or an MPSPLIB
multi-project portfolio (``.xml`` with its ``.sm`` files) and writes the scenario
(:mod:`pmo_sim.io.psplib` documents the mapping). The scenario is validated before anything
is written; without ``--out`` it goes to stdout.
"""

from __future__ import annotations

from pathlib import Path

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import OutPath, handles_errors, refuse_replacing, write_text
from pmo_sim.errors import printable
from pmo_sim.files import refuse_input


@main.group("import")
def import_group() -> None:
    """Turn instance files of other tools into pmo-sim scenarios.

    \b
    Examples:
      pmo-sim import psplib j301_1.sm > j301_1.yaml
      pmo-sim import psplib mp_j30_a2_nr2.xml --out mp.yaml
    """


@import_group.command("psplib")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=OutPath(dir_okay=False, path_type=Path),
              help="Write the scenario to this file instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite --out if it already exists.")
@handles_errors
def psplib(file: Path, out: Path | None, force: bool) -> None:
    """Convert a PSPLIB (.sm) or MPSPLIB (.xml) instance into a scenario.

    Renewable resources become equipment pools (MPSPLIB's capacity 0: one
    pool per project), activities fixed-duration tasks with needs, release
    dates arrivals; the policies fifo, min_slack, lst and lft are the
    literature's priority rules in a parallel schedule-generation scheme.
    A malformed file is reported at its line (exit 2).

    \b
    Examples:
      pmo-sim import psplib j301_1.sm > j301_1.yaml
      pmo-sim import psplib mp_j30_a2_nr2.xml --out mp.yaml
      pmo-sim run mp.yaml -n 1 --policy lft
    """
    from pmo_sim.io.psplib import import_instance, instance_files

    if out is not None:
        refuse_input(out, *instance_files(file))
    text = import_instance(file)
    if out is None:
        click.echo(text, nl=False)
        return
    refuse_replacing([out], force)
    write_text(out, text)
    click.echo(f"wrote {printable(str(out))}")
    click.echo(f"next: pmo-sim run {printable(str(out))} -n 1")
