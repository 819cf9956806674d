"""How long the confidentiality scan takes as a message grows: it must grow in step (linear).

    .venv/bin/python -m bench.confidentiality_scan [--runs 5] [--sizes 10,70,140,280]

Times `find_identifying_content` on two texts cut to each size in KB: ordinary incident prose
(no findings) and prose dense with NHS numbers, names and dates of birth (a pasted patient
list: thousands of findings). Prints the median of `--runs` runs per size and how much longer
each size took than the one before; a linear scan takes about as much longer as the text is
(2x for twice the text), a quadratic one about the square of that (4x). Sends are capped at
63,206 characters before this scan (`channel_limits.MESSAGE_MAX_CHARS`); larger sizes show the
scan's shape, not what a send meets.
"""

from __future__ import annotations

import argparse
import statistics
import time

from broadcaster.content.confidentiality import find_identifying_content

TEXTS = {
    "prose": (
        "Our phone lines are down this morning. Please call 0113 496 0001 or visit "
        "https://riverside-surgery.example. Next update by 2pm on 21/11/2026. "
    ),
    "patient list": "NHS no 943 476 5919, MRN 1234567, Sarah Jones DOB 12/03/1956, Peter Smith LS1 4AP; ",
}


def text_of(kind: str, kilobytes: int) -> str:
    sample = TEXTS[kind]
    size = kilobytes * 1024
    return (sample * (size // len(sample) + 1))[:size]


def median_scan_seconds(text: str, runs: int) -> tuple[float, int]:
    """The median wall time of `runs` scans, and how many findings one scan gave."""
    times, findings = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        findings = len(find_identifying_content(text))
        times.append(time.perf_counter() - started)
    return statistics.median(times), findings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10,70,140,280", help="KB, comma-separated, ascending")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"Confidentiality scan, median of {args.runs} runs "
        f"(`python -m bench.confidentiality_scan --runs {args.runs} --sizes {args.sizes}`):"
    )
    print("| text | size | findings | median | vs previous size |")
    print("|---|---|---|---|---|")
    for kind in TEXTS:
        previous: tuple[int, float] | None = None
        for kilobytes in sizes:
            seconds, findings = median_scan_seconds(text_of(kind, kilobytes), args.runs)
            growth = ""
            if previous is not None:
                growth = f"{seconds / previous[1]:.1f}x for {kilobytes / previous[0]:.1f}x the text"
            print(f"| {kind} | {kilobytes} KB | {findings:,} | {seconds:.3f} s | {growth} |")
            previous = (kilobytes, seconds)


if __name__ == "__main__":
    main()
