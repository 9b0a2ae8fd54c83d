"""Intake's tasks: scan the inbox, plan, read, settle, take the files (a few per task run: store →
check → record → answer → move to inbox/.done/), the office's digest (see service/intake_work.py)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from prefect import task

from nianbao.rules.history import Texts
from service import inbox, intake_work, mailbox
from service.digest import intake_digest
from service.env import env, now_or
from service.inbox import Aside, InboxFile, InboxScan, Preread
from service.intake_work import PartDone, Plan
from service.mailbox import MailScan
from service.submission import Brief
from tasks import artifacts


@task(name="scan-inbox")
def scan_inbox(county_code: str, year: int) -> InboxScan:
    return inbox.scan(env(), county_code, year)


# the check task runs of one intake, at most: each costs ~0.1 s of orchestration (its states,
# its tags' concurrency slots) and the server records only ~30–40 a second
TASK_RUNS = 40


@task(name="read-files", task_run_name="read-{part}")
def read_files(plan_id: str, part: int, settle: int = 0) -> PartDone:
    """The read stage's part: its files read on this machine's cores, the readings kept; with
    `settle` (the whole intake in one run), the texts compared are fixed too, into that many parts."""
    e = env()
    plan = intake_work.load_plan(e, plan_id)
    done = intake_work.read_part(e, plan, part)
    if settle:
        intake_work.settle(e, plan, settle)
    return done


@task(name="check-files", task_run_name="check-{label}")
def process_files(plan_id: str, indexes: list[int], label: str = "files") -> list[Brief | Aside | None]:
    """The plan's files taken one after another, with their readings and the intake's fixed texts
    to compare with; each new submission gets its findings page in the UI. Per file: a Brief, an
    Aside (set aside or left for later) or None (it was gone)."""
    e = env()
    plan, others = _plan(e.data_dir, plan_id)
    received_at = now_or(plan.received_at)
    return [_take(plan.files[i], plan.county, plan.year, received_at, intake_work.preread(e, plan, i), others)
            for i in indexes]


@lru_cache(maxsize=4)
def _plan(data_dir: object, plan_id: str) -> tuple[Plan, dict[str, Texts]]:
    """A plan and its settled texts, read once per process (a part's task runs share them)."""
    e = env()
    return intake_work.load_plan(e, plan_id), intake_work.load_settled(e, plan_id).texts()


def _take(item: InboxFile, county_code: str, year: int, received_at: datetime,
          preread: Preread | None, others: dict[str, Texts]) -> Brief | Aside | None:
    done = inbox.take(env(), item, county_code, year, received_at, preread=preread, others=others)
    if done is None or isinstance(done, Aside):
        return done
    if done.created:
        sub = done.submission
        who = done.body.code if done.body else "unassigned"
        title = (f"{done.body.name} 第{sub.version}版审核结果" if done.body
                 else f"未识别单位的来件《{sub.original_name}》（暂存，待县政务公开办认定）")
        artifacts.markdown(artifacts.key("submission", county_code, year, who,
                                         f"v{sub.version}" if done.body else sub.id),
                           artifacts.submission_markdown(done.body.name if done.body else None, sub), title)
    return done.brief(item.name)


@task(name="poll-mailbox")
def poll_mailbox(county_code: str, year: int, as_of: datetime | str | None = None) -> MailScan:
    """The county's mailbox, once per intake: one task run for all its messages."""
    return mailbox.poll(env(), county_code, year, now_or(as_of))


@task(name="office-digest")
def queue_office_digest(county_code: str, year: int) -> int:
    return intake_digest(env(), county_code, year)
