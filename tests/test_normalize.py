"""The normaliser on neutral documents shaped like what the readers give for awkward layouts."""

from __future__ import annotations

from nianbao.document import Document, Paragraph, Table
from nianbao.normalize import normalize
from nianbao.template import TABLE3_KEYS

HEAD = [
    ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", None, None, "申请人情况", None, None, None, None, None, None],
    [None, None, None, "自然人", "法人或其他组织", None, None, None, None, "总计"],
    [None, None, None, None, "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", None],
]
LABELS = {
    "new": ["一、本年新收政府信息公开申请数量", None, None],
    "carried_over": ["二、上年结转政府信息公开申请数量", None, None],
    "granted": ["三、本年度办理结果", "（一）予以公开", None],
    "partial": [None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None],
    "denied_state_secret": [None, "（三）不予公开", "1.属于国家秘密"],
    "denied_law_forbids": [None, None, "2.其他法律行政法规禁止公开"],
    "denied_three_safeties": [None, None, "3.危及“三安全一稳定”"],
    "denied_third_party": [None, None, "4.保护第三方合法权益"],
    "denied_internal_affairs": [None, None, "5.属于三类内部事务信息"],
    "denied_process_info": [None, None, "6.属于四类过程性信息"],
    "denied_enforcement_file": [None, None, "7.属于行政执法案卷"],
    "denied_query_matter": [None, None, "8.属于行政查询事项"],
    "unable_not_held": [None, "（四）无法提供", "1.本机关不掌握相关政府信息"],
    "unable_needs_creation": [None, None, "2.没有现成信息需要另行制作"],
    "unable_unclear": [None, None, "3.补正后申请内容仍不明确"],
    "refused_petition": [None, "（五）不予处理", "1.信访举报投诉类申请"],
    "refused_repeat": [None, None, "2.重复申请"],
    "refused_publication": [None, None, "3.要求提供公开出版物"],
    "refused_mass_repeat": [None, None, "4.无正当理由大量反复申请"],
    "refused_confirm_existing": [None, None, "5.要求行政机关确认或重新出具已获取信息"],
    "other_no_correction": [None, "（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"],
    "other_no_fee": [None, None, "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"],
    "other_other": [None, None, "3.其他"],
    "total": [None, "（七）总计", None],
    "carried_forward": ["四、结转下年度继续办理", None, None],
}


def _row(key: str, n: int) -> list:
    return [*LABELS[key], *[str(n)] * 6, str(6 * n)]


def _doc(*tables: Table) -> Document:
    return Document([Paragraph("三、收到和处理政府信息公开申请情况", page=1), *tables], "pdf")


def test_table_split_across_pages_with_a_row_cut_in_two():
    """Page 1 ends with the label of （六）1 cut mid-word and no figures; page 2 starts with the
    rest of that label, its figures, and the remaining rows."""
    keys = list(TABLE3_KEYS)
    cut = keys.index("other_no_correction")
    page1 = HEAD + [_row(k, i + 1) for i, k in enumerate(keys[:cut])]
    page1.append([None, "（六）其他处理", "1.申请人无正当理由逾期不补", "", "", "", "", "", "", ""])
    page2 = [[None, None, "正、行政机关不再处理其政府信息公开申请", *["9"] * 6, "54"]]
    page2 += [_row(k, cut + 2 + i) for i, k in enumerate(keys[cut + 1:])]
    doc = _doc(Table(page1, page=1, row_pages=[1] * len(page1)), Table(page2, page=2, row_pages=[2] * len(page2)))
    t3 = normalize(doc).report.table3
    assert t3["other_no_correction"] == [9] * 6 + [54]
    assert t3["refused_confirm_existing"] == [cut] * 6 + [6 * cut]
    assert t3["carried_forward"][0] == len(keys)
    assert all(None not in row for row in t3.values())


def test_blank_rows_are_not_joined_to_the_next_row():
    rows = HEAD + [[*LABELS[k], *[""] * 7] for k in TABLE3_KEYS]
    ev = normalize(_doc(Table(rows, page=1))).evidence
    assert ev.tables["table3"].missing_rows == []
    assert all(c.problem == "empty" for c in ev.tables["table3"].cells)


def test_label_only_lines_and_a_row_of_figures():
    """PDF-extracted text: a wrapped label on two lines, then its seven numbers alone."""
    rows = HEAD + [_row(k, 0) for k in TABLE3_KEYS]
    i = 3 + TABLE3_KEYS.index("partial")
    rows[i:i + 1] = [["（二）部分公开（区分处理的，只计这"], ["一情形，不计其他情形）"], ["", *["2"] * 6, "12"]]
    t3 = normalize(_doc(Table(rows, page=1))).report.table3
    assert t3["partial"] == [2] * 6 + [12]
    assert t3["granted"] == [0] * 7
