"""Draw deliveries completed over time (ours, the bare client, apprise) into one PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# The object API, not pyplot: no backend or display to choose, nothing global to close.
from matplotlib.figure import Figure

from bench.report import APPRISE, BARE, OURS, Summary

STYLE = {OURS: ("tab:blue", "-"), BARE: ("tab:green", "--"), APPRISE: ("tab:red", ":")}


def plot_fanout(summaries: Sequence[Summary], panels: Sequence[str], path: Path) -> None:
    """One panel per scenario name; each client's median run as a cumulative count."""
    shown = [name for name in panels if any(s.scenario == name for s in summaries)]
    if not shown:
        return
    figure = Figure(figsize=(6.5 * len(shown), 4.5))
    axes = figure.subplots(1, len(shown), squeeze=False)
    for axis, name in zip(axes[0], shown, strict=True):
        for summary in (s for s in summaries if s.scenario == name and s.client in STYLE):
            colour, line = STYLE[summary.client]
            curve = summary.median_run.curve
            axis.step(
                [0.0, *curve],
                range(len(curve) + 1),
                where="post",
                color=colour,
                linestyle=line,
                label=f"{summary.client} ({curve[-1]:.1f} s)" if curve else summary.client,
            )
        practices = name.split()[0]
        axis.set_title(f"{practices} practices: messages accepted by the providers")
        axis.set_xlabel("seconds after the trigger")
        axis.set_ylabel("messages accepted")
        axis.grid(visible=True, alpha=0.3)
        axis.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
