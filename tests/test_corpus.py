"""The corpus of realistic variation (nianbao/corpus.py): good reports written as real bodies
write them must get no error and no warning in any format they arrive in; each flawed report
must get the finding its flaw calls for, and nothing else that the flaw does not explain.

A rule that fires on a good document here is a failing test. The precision benchmark
(`python -m benchmarks.precision`) runs the same over a few hundred reports and prints figures."""

from __future__ import annotations

import pytest

from nianbao.corpus import FLAWS, FORMATS, corpus, judge, write_corpus

DOCS = corpus(good=24, flawed_each=1)
# a .doc or .rtf is read through one LibreOffice start each (~1.5 s): a share of the corpus is enough there
SLOW = {"doc": 4, "rtf": 5}


def _docs(fmt: str):
    return DOCS[::SLOW.get(fmt, 1)]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    fast = write_corpus(DOCS, out, [f for f in FORMATS if f not in SLOW])
    for fmt in SLOW:
        fast.update(write_corpus(_docs(fmt), out / fmt, [fmt]))
    return fast


@pytest.mark.parametrize("fmt", FORMATS)
def test_good_reports_get_no_error_and_no_warning(fmt, written):
    wrong = []
    for doc in _docs(fmt):
        if doc.intended is None:
            j = judge(doc, fmt, written[(doc.name, fmt)])
            if j.wrong:
                wrong.append((doc.name, j.wrong))
    assert wrong == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_flaw_gets_its_finding_and_nothing_it_does_not_explain(fmt, written):
    missed, extra = [], []
    for doc in _docs(fmt):
        if doc.intended is not None:
            j = judge(doc, fmt, written[(doc.name, fmt)])
            if not j.caught:
                missed.append((doc.name, j.errors + j.warnings))
            if j.wrong:
                extra.append((doc.name, j.wrong))
    assert (missed, extra) == ([], [])


def test_the_corpus_has_every_flaw_and_every_kind_of_body():
    flaws = {d.intended for d in DOCS if d.intended}
    assert flaws == {rule for _, rule, _, _ in FLAWS}
    bodies = {d.spec.body for d in DOCS}
    assert any(b.endswith("区人民政府") for b in bodies) and any(b.endswith("局") for b in bodies)
    assert any(d.spec.template == "2019" and d.intended is None for d in DOCS)
