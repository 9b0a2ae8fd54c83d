"""Delivery: every due notice of the cycle, sent once (one task run for all of them)."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from notifications.outbox import Delivery
from service.delivery import deliver as deliver_cycle
from service.env import env, now_or


@task(name="deliver-notices")
def deliver(county_code: str, year: int, as_of: datetime | str | None = None) -> Delivery:
    return deliver_cycle(env(), county_code, year, now_or(as_of))
