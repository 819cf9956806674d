"""Send an update's deliveries from this process and show them landing, with a progress bar."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.cli.exit_codes import ExitCode, exit_code_for
from broadcaster.config.settings import Settings
from broadcaster.core.models import DeliveryState
from broadcaster.delivery.runtime import running_dispatcher
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.store.queries import progress_of_update, routes_of_update
from broadcaster.store.records import StoredUpdate


async def deliver_and_watch(
    engine: AsyncEngine,
    settings: Settings,
    stored: StoredUpdate,
    *,
    wait: float,
    console: Console,
) -> ExitCode:
    if wait <= 0:
        console.print(
            f"{stored.incident_ref}: {stored.deliveries} messages queued; `broadcaster serve` delivers them."
        )
        return exit_code_for(await progress_of_update(engine, stored.update_id))
    routes = await routes_of_update(engine, stored.update_id)
    with _progress_bar(console) as bar:
        task = bar.add_task(
            f"{stored.incident_ref} update {stored.seq}",
            total=stored.deliveries,
            failed=0,
            waiting=0,
        )

        def show(counts: Counter[DeliveryState]) -> None:
            done = counts[DeliveryState.DELIVERED] + counts[DeliveryState.FAILED]
            waiting = counts[DeliveryState.RETRYING] + counts[DeliveryState.UNKNOWN]
            bar.update(task, completed=done, failed=counts[DeliveryState.FAILED], waiting=waiting)

        async with running_dispatcher(engine, settings, routes, incident_id=stored.incident_id) as dispatcher:
            await IncidentQueries(engine).follow(
                stored.update_id,
                outcomes=dispatcher.writer.outcomes,
                give_up_after=wait,
                on_progress=show,
            )
    # The dispatcher flushed its last results on the way out: read the final figures.
    counts = await progress_of_update(engine, stored.update_id)
    console.print(summary_line(stored.incident_ref, counts))
    return exit_code_for(counts)


def summary_line(ref: str, counts: Counter[DeliveryState]) -> str:
    delivered, failed = counts[DeliveryState.DELIVERED], counts[DeliveryState.FAILED]
    unfinished = sum(n for s, n in counts.items() if not s.is_final)
    line = f"{ref}: {delivered} delivered, {failed} failed, {unfinished} not yet confirmed."
    if failed or unfinished:
        line += f" See `broadcaster status {ref}`"
        line += "; `broadcaster serve` keeps retrying." if unfinished else "."
    return line


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}  retrying {task.fields[waiting]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
