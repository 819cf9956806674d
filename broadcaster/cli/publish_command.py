"""`broadcaster publish`: the public copy written to a folder, or uploaded to the bucket, now.
The heavy imports are made inside the command, so its `--help` answers at once.
"""

from __future__ import annotations

from pathlib import Path

import click

from broadcaster.cli.context import CliContext


@click.command()
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the pages, feeds, CAP alerts and banner files under this folder.",
)
@click.option("--s3", "to_bucket", is_flag=True, help="Upload them to BROADCASTER_PUBLISH__S3_BUCKET.")
@click.pass_obj
def publish(ctx: CliContext, folder: Path | None, to_bucket: bool) -> None:
    """Write the public status pages, feeds, CAP alerts and banner data as static files.

    Copy the folder to any web host outside your network (links work from the site's root, or
    from BROADCASTER_PUBLISH__BASE_URL). `broadcaster serve` uploads the same files to an
    S3-compatible bucket after every update when BROADCASTER_PUBLISH__S3_BUCKET is set.
    """
    from broadcaster.cli.running import run_async, stdout_console  # noqa: PLC0415
    from broadcaster.core.errors import ConfigError  # noqa: PLC0415
    from broadcaster.delivery.runtime import open_database  # noqa: PLC0415
    from broadcaster.public.publish import BucketTarget, PublishFailed, write_folder  # noqa: PLC0415
    from broadcaster.public.site import build_site_files  # noqa: PLC0415

    if folder is None and not to_bucket:
        raise click.UsageError("say where to publish: --to DIR, or --s3 to upload to the configured bucket")
    settings, directory = ctx.settings, ctx.directory
    target = BucketTarget(settings.publish) if to_bucket else None  # refuses when no bucket is set
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder: give --to a folder to write the copy under")

    async def go() -> str:
        async with open_database(settings) as engine:
            view, files = await build_site_files(engine, directory, settings.publish)
        said = []
        if folder is not None:
            try:
                written = write_folder(files, folder)
            except OSError as exc:
                raise ConfigError(f"cannot write the public copy under {folder}: {exc.strerror}") from None
            said.append(f"Wrote {written} files under {folder}")
        if target is not None:
            try:
                uploaded = await target.upload(files)
            except PublishFailed as exc:
                raise ConfigError(
                    f"uploading to {target.describe} failed after {exc.attempts} attempt(s): {exc.reason}"
                ) from None
            said.append(f"Uploaded {uploaded.files} files to {target.describe}")
        open_now = len(view.open_incidents())
        return (
            f"{'; '.join(said)}: {len(view.practices)} practice pages, {open_now} open incident(s). "
            "Each practice's banner line is in banner/index.html."
        )

    stdout_console().print(run_async(go), highlight=False)
