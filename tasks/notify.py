"""Delivery: every due notice of the cycle, sent once (one task run for all of them)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import task

from db import repo
from db.session import session_scope
from notifications.outbox import deliver_due
from tasks.context import env, now_or


@task(name="deliver-notices")
def deliver(county_code: str, year: int, as_of: datetime | str | None = None) -> dict[str, Any]:
    e = env()
    with session_scope(e.factory) as s:
        cycle_id = repo.cycle(s, repo.county_by_code(s, county_code), year).id
    return asdict(deliver_due(e.factory, e.notifier, e.data_dir, now_or(as_of), cycle_id=cycle_id))
