"""Every rule's failing and passing cases (tests/cases/*.yaml), in each format where the rule's
input differs. The documents are made by the generator; PDFs in one LibreOffice batch."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from nianbao.check import Preread, check_file, read_one
from nianbao.generate import expected_report, write_docx, write_pdfs, write_txt
from nianbao.rules import RULES, History
from nianbao.settings import Settings
from tests.caselib import FORMATS, apply, base_spec, load_cases, make_scan

CASES = load_cases()
PARAMS = [pytest.param(c, fmt, id=f"{c.id}[{fmt}]") for c in CASES for fmt in c.formats]


@pytest.fixture(scope="session")
def case_documents(tmp_path_factory) -> dict[tuple[str, str], Path]:
    out = tmp_path_factory.mktemp("cases")
    docs: dict[tuple[str, str], Path] = {}
    to_pdf: dict[tuple[str, str], Path] = {}
    items = [("base", base_spec(), FORMATS, ())] + [(c.id, c.spec, c.formats, c.smudge) for c in CASES
                                                     if c.spec is not None]
    scans: dict[tuple[str, str], tuple[int, tuple]] = {}
    for i, (cid, spec, formats, smudge) in enumerate(items):
        stem = f"c{i:03d}"
        if "docx" in formats or "pdf" in formats or "scan" in formats:
            docs[(cid, "docx")] = write_docx(spec, out / f"{stem}.docx")
            if "pdf" in formats or "scan" in formats:
                to_pdf[(cid, "pdf")] = docs[(cid, "docx")]
            if "scan" in formats:
                scans[(cid, "scan")] = (i, smudge)
        if "txt" in formats:
            docs[(cid, "txt")] = write_txt(spec, out / f"{stem}.txt")
        if "txt-pdf" in formats:
            docs[(cid, "txt-pdf")] = write_txt(spec, out / f"{stem}-pdf.txt", shape="pdf")
    pdf_dir = out / "pdf"
    for key, pdf in zip(to_pdf, write_pdfs(list(to_pdf.values()), pdf_dir), strict=True):
        docs[key] = pdf
    made: dict[tuple[str, tuple], Path] = {}  # the same report scanned the same way is scanned once
    for (cid, _), (i, smudge) in scans.items():
        pdf = docs[(cid, "pdf")]
        same = (repr(next(c.spec for c in CASES if c.id == cid)), smudge)
        if same not in made:
            made[same] = make_scan(pdf, out / f"c{i:03d}-scan.pdf", smudge)
        docs[(cid, "scan")] = made[same]
    return docs


def _history(data: dict) -> History:
    h = History()
    if "previous" in data:
        h.previous = expected_report(apply(base_spec(), data["previous"]))
    for name, changes in (data.get("others") or {}).items():
        h.others[name] = expected_report(apply(base_spec(), changes))
    if "received_at" in data:
        h.received_at = datetime.fromisoformat(str(data["received_at"]))
    if "deadline" in data:
        h.deadline = date.fromisoformat(str(data["deadline"]))
    for kind in ("word", "scan"):  # the body's other file this cycle (scan.word_mismatch)
        if kind in data:
            setattr(h, kind, expected_report(apply(base_spec(), data[kind])))
    h.accepted_before = bool(data.get("accepted_before"))
    h.missing_bodies = data.get("missing_bodies")
    return h


def _check(path: Path, context: dict, roster):
    ros = roster if context.get("roster", True) else None
    body = context.get("body", "guanting")
    who = (ros.by_code(body) or ros.find(body)) if (body and ros) else None
    settings = Settings(**(context.get("settings") or {}))
    history = _history(context["history"]) if "history" in context else None
    return check_file(path, year=context.get("year", 2024), county=context.get("county", "巨鹿县"),
                      roster=ros, body=who, settings=settings, history=history, preread=_scan_read(path, settings))


_SCAN_READS: dict[Path, Preread | None] = {}


def _scan_read(path: Path, settings: Settings) -> Preread | None:
    """A scan is read once for all the cases that check it (OCR: ~15 s a read); reading depends on
    the bytes alone, the rules on the case."""
    if not path.name.endswith("-scan.pdf"):
        return None
    if path not in _SCAN_READS:
        _SCAN_READS[path] = read_one(str(path), settings)
    return _SCAN_READS[path]


@pytest.mark.parametrize("fmt", FORMATS)
def test_base_report_is_clean(fmt, case_documents, roster):
    """The report every case starts from passes every rule, in every format."""
    result = _check(case_documents[("base", fmt)], {}, roster)
    assert [(f.rule, f.message) for f in result.findings] == []
    assert result.verdict == "accepted"


@pytest.mark.parametrize("fmt", FORMATS)
def test_base_report_reads_back_exactly(fmt, case_documents):
    """Whatever the format, the tables, texts, title and year come back as generated."""
    from nianbao.check import parse_file

    got = parse_file(case_documents[("base", fmt)]).report.to_json()
    want = expected_report(base_spec()).to_json()
    got.pop("period")
    want.pop("period")
    assert got == want


@pytest.mark.parametrize(("case", "fmt"), PARAMS)
def test_rule_case(case, fmt, case_documents, bad_files, roster):
    path = bad_files[case.file] if case.file else case_documents[(case.id, fmt)]
    result = _check(path, case.context, roster)
    mine = [f for f in result.findings if f.rule == case.rule]
    if case.expect == "pass":
        assert mine == [], [f.message for f in mine]
        return
    assert mine, f"{case.rule} did not fire; got {[f.rule for f in result.findings]}"
    # a finding at many places of one table names them all: a wanted place may be any of them
    places = [p.to_json() for f in mine for p in (f.location, *f.location.places)]
    for want in case.where:
        assert any(all(p.get(k) == v for k, v in want.items()) for p in places), (want, places)
    if case.severity:
        assert {str(f.severity) for f in mine} == {case.severity}
    for f in mine:
        assert f.message and any("\u4e00" <= ch <= "\u9fff" for ch in f.message)


def test_every_rule_has_failing_and_passing_cases():
    have: dict[str, set[str]] = {}
    for c in CASES:
        have.setdefault(c.rule, set()).add(c.expect)
    missing = [r for r in RULES if have.get(r) != {"fail", "pass"}]
    assert missing == []
