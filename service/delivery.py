"""Delivery: every due notice of a cycle, sent once (see notifications/outbox.py)."""

from __future__ import annotations

from datetime import datetime

from db import repo
from db.session import session_scope
from notifications.outbox import Delivery, deliver_due
from service.env import Env


def deliver(e: Env, county_code: str, year: int, now: datetime) -> Delivery:
    with session_scope(e.factory) as s:
        cycle_id = repo.cycle(s, repo.county_by_code(s, county_code), year).id
    return deliver_due(e.factory, e.notifier, e.data_dir, now, cycle_id=cycle_id)
