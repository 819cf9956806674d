"""The fan-out benchmark still runs end to end, so it cannot rot unnoticed (speed is not checked here)."""

from __future__ import annotations

from itertools import takewhile
from pathlib import Path

from bench.report import COLUMNS
from bench.run import main


def figures_table(results: Path) -> dict[str, dict[str, str]]:
    """The first table of RESULTS.md, as {client: {column: cell}}."""
    lines = results.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| scenario |"))
    table = [line.strip("|").split("|") for line in takewhile(lambda x: x.startswith("|"), lines[start:])]
    header = [cell.strip() for cell in table[0]]
    rows = [dict(zip(header, (cell.strip() for cell in row), strict=True)) for row in table[2:]]
    return {row["client"]: row for row in rows}


def test_quick_benchmark_of_50_practices_reports_every_column(tmp_path: Path) -> None:
    """Ours, the bare client and apprise, once each at zero latency: every column is filled in."""
    results, plot = tmp_path / "RESULTS.md", tmp_path / "fanout.png"
    quick = ["--quick", "--scenarios", "50", "--no-faults", "--latency", "0", "--jitter", "0"]
    main([*quick, "--workdir", str(tmp_path / "runs"), "--results", str(results), "--plot", str(plot)])
    rows = figures_table(results)
    assert set(rows) == {"ours", "bare aiohttp", "apprise CLI"}
    unmeasured = [name for name, _field, _decimals in COLUMNS if rows["ours"][name] == "-"]
    assert unmeasured == []  # "-" marks a figure the run did not produce
    assert [rows[client]["deliveries"] for client in sorted(rows)] == ["250"] * 3
    assert (rows["ours"]["dup"], rows["ours"]["missing"]) == ("0", "0")
    assert plot.stat().st_size > 10_000  # matplotlib is a test dependency: the plot is drawn
