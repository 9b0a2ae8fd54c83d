"""Artifacts in the Prefect UI: the cycle's table, a progress bar during intake, a markdown page
per submission. Keys match ^[a-z0-9-]*$ (body codes, not Chinese names). Outside a Prefect run
(a task called through .fn() in a test) they are skipped."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID


def _in_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def key(*parts: Any) -> str:
    k = "-".join(str(p) for p in parts).lower()
    return re.sub(r"[^a-z0-9-]+", "-", k).strip("-")


def table(artifact_key: str, rows: list[dict[str, Any]], description: str) -> None:
    if _in_run():
        from prefect.artifacts import create_table_artifact

        create_table_artifact(rows, key=artifact_key, description=description)


def markdown(artifact_key: str, text: str, description: str) -> None:
    if _in_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(text, key=artifact_key, description=description)


def progress_start(artifact_key: str, description: str) -> UUID | None:
    if not _in_run():
        return None
    from prefect.artifacts import create_progress_artifact

    return create_progress_artifact(0.0, key=artifact_key, description=description)


def progress(artifact_id: UUID | None, percent: float) -> None:
    if artifact_id is not None:
        from prefect.artifacts import update_progress_artifact

        update_progress_artifact(artifact_id, min(100.0, percent))
