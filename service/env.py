"""What every use case needs, built once per process from the settings (NIANBAO_*): the database
session factory and the notifier. Nothing here is a flow parameter: the database URL and the
channels' URLs are secrets and stay out of Prefect's records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from db.migrate import ensure_schema
from db.session import make_engine, session_factory
from nianbao.rules.history import local_date
from nianbao.settings import Settings, get_settings
from notifications.channels import Notifier, notifier_for


@dataclass(frozen=True)
class Env:
    settings: Settings
    factory: sessionmaker[Session]
    notifier: Notifier

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def sink(self) -> bool:
        return self.settings.notice_sink is not None

    def local_today(self, now: datetime) -> date:
        return local_date(now, self.settings.timezone)

    def today(self, as_of: datetime | str | None = None) -> date:
        """The county's date now, or at the moment a rehearsal or test says it is."""
        return self.local_today(now_or(as_of))


@lru_cache(maxsize=4)
def _env(settings_json: str) -> Env:
    key = json.loads(settings_json)
    # the fields set explicitly stay so: Settings.web_links asks whether NIANBAO_PUBLIC_URL was
    settings = Settings.model_construct(_fields_set=set(key["set"]), **dict(Settings.model_validate(key["values"])))
    url = settings.db_url()
    engine = make_engine(url)
    ensure_schema(engine, url)
    return Env(settings, session_factory(engine), notifier_for(settings.notice_sink))


def env(settings: Settings | None = None) -> Env:
    s = settings or get_settings()
    data = s.model_dump(mode="json")
    for name in type(s).model_fields:  # secrets dump as "**********": the cache key keeps the real values
        value = getattr(s, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return _env(json.dumps({"values": data, "set": sorted(s.model_fields_set)}, sort_keys=True))


def now_or(as_of: datetime | str | None) -> datetime:
    """The flows' clock: now, or the moment a rehearsal or test says it is."""
    if as_of is None:
        return datetime.now(UTC)
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    return as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
