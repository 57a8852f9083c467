"""The town's own text cleaned on the way in (zhidang_analysis.inputs.towntext), and the notices validate gives for it.

Each case is text typed the way town offices type it (the classes a county reviewer circled), with the result
a secretary would write by hand.
"""

from __future__ import annotations

import re

import pytest

import zhidang_analysis as zd
from zhidang_analysis.inputs.towntext import clean, is_empty_answer, punctuation, split_items

from .conftest import PROFILE_HEADER, PROFILE_ROWS, write_xlsx


# ------------------------------------------------------------------------------------------- punctuation
@pytest.mark.parametrize("typed, edited", [
    ("马铃薯,养羊,劳务", "马铃薯，养羊，劳务"),
    ("建立周例会制度;落实签到签退", "建立周例会制度；落实签到签退"),
    ("问题:干部怕担责", "问题：干部怕担责"),
    ("为什么?因为学习不够!", "为什么？因为学习不够！"),
    ("落实到人.", "落实到人。"),
    ("打造\"田间课堂\"", "打造“田间课堂”"),
    ("开展宣讲(每月一次)", "开展宣讲（每月一次）"),
    ("开展　　宣讲　活动", "开展宣讲活动"),
    ("开展宣讲 ， 覆盖全村", "开展宣讲，覆盖全村"),
    ("落实到人。。", "落实到人。"),
    ("落实到人，。", "落实到人。"),
    ("落实到人。，下一步", "落实到人。下一步"),
    ("甲、、乙", "甲、乙"),
    ("亩产1.5吨, 增收3.2万元", "亩产1.5吨，增收3.2万元"),
    ("Wi-Fi 覆盖 12 个村", "Wi-Fi覆盖12个村"),
    ("3.5 km", "3.5 km"),
    # a space inside a quoted name parts two phrases said side by side (the 2024 高庙镇 of the review county)
    ("“周调度 月通报”机制", "“周调度、月通报”机制"),
    ("\"周调度 月通报\"机制", "“周调度、月通报”机制"),
    ("“三会一课 ”制度", "“三会一课”制度"),
    # what a quick look lets through unchanged must be what the whole rewrite would give
    ("甲问题\n乙问题", "甲问题\n乙问题"),
    ("甲问题\n\n乙问题\n", "甲问题\n乙问题"),
    ("\n甲问题", "甲问题"),
    ("甲问题\r\n乙问题", "甲问题\n乙问题"),
    ("真好！？", "真好！？"),
    ("落实到人！，下一步", "落实到人！下一步"),
    ("落实到人；！", "落实到人！"),
    ("落实到人\u3000。", "落实到人。"),
])
def test_punctuation_is_full_width_in_chinese_and_single(typed, edited):
    assert punctuation(typed) == edited


@pytest.mark.parametrize("answer", ["无", "无。", " 暂无 ", "没有", "—", "——", "－", "/", "不适用", "无此项", "暂无。"])
def test_answers_that_say_nothing_are_empty(answer):
    assert is_empty_answer(answer)
    cleaned = clean(answer, "paragraph")
    assert cleaned.text == "" and cleaned.changes == (f"“{answer.strip()}”按未填写处理",)


def test_a_sentence_that_begins_with_wu_is_not_empty():
    assert not is_empty_answer("无违纪违规问题")
    assert clean("无违纪违规问题", "paragraph").text == "无违纪违规问题。"


# ------------------------------------------------------------------------------------------- items
@pytest.mark.parametrize("typed, items", [
    ("1.党员年龄偏大 2.合作社带动弱 3.干部怕担责", ["党员年龄偏大", "合作社带动弱", "干部怕担责"]),
    ("1、党员年龄偏大2、合作社带动弱3、干部怕担责", ["党员年龄偏大", "合作社带动弱", "干部怕担责"]),
    ("（1）党员年龄偏大（2）合作社带动弱", ["党员年龄偏大", "合作社带动弱"]),
    ("①党员年龄偏大；②合作社带动弱。", ["党员年龄偏大", "合作社带动弱"]),
    ("一是党员年龄偏大，结构老化；二是合作社带动弱。", ["党员年龄偏大，结构老化", "合作社带动弱"]),
    ("党员年龄偏大\n合作社带动弱\n", ["党员年龄偏大", "合作社带动弱"]),
    ("党员年龄偏大；\n无\n合作社带动弱", ["党员年龄偏大", "合作社带动弱"]),
    ("村集体经济收入2万元以下的村有3个", ["村集体经济收入2万元以下的村有3个"]),
    ("发展党员1.5名的目标没有完成", ["发展党员1.5名的目标没有完成"]),
])
def test_items_are_split_on_lines_semicolons_and_numbers(typed, items):
    assert split_items(typed) == items


def test_items_run_together_are_noted_and_one_a_line_is_not():
    cleaned = clean("1.党员年龄偏大 2.合作社带动弱", "list")
    assert cleaned.text == "党员年龄偏大\n合作社带动弱" and cleaned.changes == ("一行中的编号条目分为2条",)
    assert clean("党员年龄偏大\n合作社带动弱", "list").changes == ()
    assert clean("党员年龄偏大；合作社带动弱", "list").changes == ()


def test_industries_are_split_on_dunhao_and_commas():
    assert split_items("马铃薯,养羊,劳务", by_dunhao=True) == ["马铃薯", "养羊", "劳务"]
    cleaned = clean("马铃薯,养羊,劳务", "list", by_dunhao=True)
    assert cleaned.text == "马铃薯、养羊、劳务" and cleaned.changes == ("半角标点改为全角",)


# ------------------------------------------------------------------------------------------- kinds
def test_a_phrase_has_no_trailing_punctuation_and_its_commas_are_dunhao():
    assert clean("签到签退、请销假。", "phrase").text == "签到签退、请销假"
    assert clean("考勤制度，值班制度", "phrase").text == "考勤制度、值班制度"
    clause = "选优配强村党组织书记，村“两委”班子年龄、学历结构明显改善"  # a clause keeps its comma
    assert clean(clause, "phrase") == clean(clause, "phrase").__class__(clause, ())


def test_the_sample_is_typed_cleanly():
    notices = [p for p in zd.validate(zd.SAMPLE_DATA).problems if p.level == "notice"]
    # nothing to clean; what it has is what many towns do: their 2025 paragraphs are their 2024 ones
    assert all(p.message.endswith("与2024年一字不差，报告会逐字重复上年的内容") for p in notices), notices
    assert len({p.town for p in notices}) == len(notices) > 0


def test_a_paragraph_ends_with_a_full_stop_and_its_lines_are_sentences():
    assert clean("坚持“周例会”制度,每周一调度", "paragraph").text == "坚持“周例会”制度，每周一调度。"
    assert clean("坚持周例会\n每周一调度。", "paragraph").text == "坚持周例会。每周一调度。"
    assert clean("他说：“好！”", "paragraph").text == "他说：“好！”"


# ------------------------------------------------------------------------------------------- validate
def test_validate_names_each_cell_it_cleaned_and_the_report_uses_the_clean_text(tmp_path):
    years = [["乡镇", "发展党员（名）"], ["甲镇", 5], ["乙乡", 2], ["丙镇", 3]]
    practices = [
        ["乡镇", "年度", "作风管理制度", "（一）特色做法", "自查问题", "主导产业"],
        ["甲镇", 2025, "签到签退,请销假。", "坚持每周一学,每月一考。。", "1.党员年龄偏大 2.合作社带动弱 3.干部怕担责",
         "马铃薯,养羊,劳务"],
        ["乙乡", 2025, "无", "暂无", "没有", "—"],
        ["丙镇", 2025, "签到签退、请销假", "坚持每周一学。", "党员年龄偏大\n合作社带动弱", "马铃薯、养羊"],
    ]
    write_xlsx(tmp_path / "数据.xlsx", {"乡镇概况": [PROFILE_HEADER, *PROFILE_ROWS], "2025": years,
                                       "特色做法": practices})
    result = zd.validate(tmp_path)
    assert result.errors == []
    notices = {(p.town, p.cell): p.message for p in result.problems if p.level == "notice"}
    assert notices == {
        ("甲镇", "C2"): "“作风管理制度”已整理后写入报告：半角标点改为全角；去掉末尾的标点；并列的词语用顿号分隔",
        ("甲镇", "D2"): "“（一）特色做法”已整理后写入报告：半角标点改为全角；去掉重复的标点",
        ("甲镇", "E2"): "“自查问题”已整理后写入报告：一行中的编号条目分为3条",
        ("甲镇", "F2"): "“主导产业”已整理后写入报告：半角标点改为全角",
        ("乙乡", "C3"): "“作风管理制度”已整理后写入报告：“无”按未填写处理",
        ("乙乡", "D3"): "“（一）特色做法”已整理后写入报告：“暂无”按未填写处理",
        ("乙乡", "E3"): "“自查问题”已整理后写入报告：“没有”按未填写处理",
        ("乙乡", "F3"): "“主导产业”已整理后写入报告：“—”按未填写处理",
        ("乙乡", "A3"): "乙乡2025年的特色做法各栏都没有填写（或只写了“无”），报告只能写数据，写不出本乡镇的做法、自查问题和下一步打算",
    }
    ds = result.dataset
    assert ds.practice("甲镇", 2025)["workstyle_rules"][0] == "签到签退、请销假"
    assert ds.practice("甲镇", 2025)["s1_practice"][0] == "坚持每周一学，每月一考。"
    assert ds.practice("甲镇", 2025)["own_problems"][0].splitlines() == ["党员年龄偏大", "合作社带动弱", "干部怕担责"]
    assert ds.practice("乙乡", 2025) == {}  # nothing but 无 is nothing

    # the report of 甲镇: three problems of its own, no 。。, no half-width comma between Chinese characters
    from zhidang_analysis.report.narrative import town_report

    text = town_report(ds, "甲镇", 2025).text
    assert "。。" not in text and "," not in text
    # the items split, the Party's own work first and the town's economy after it
    assert re.search(r"一是党员年龄偏大。二是干部怕担责。三是合作社带动弱。", text), text
    assert "坚持每周一学，每月一考。" in text
    for town in ("乙乡", "丙镇"):
        report = town_report(ds, town, 2025).text
        assert "无。" not in report and "。。" not in report


def test_validate_notes_paragraphs_repeated_from_last_year_and_rows_with_nothing(tmp_path):
    years = [["乡镇", "发展党员（名）"], ["甲镇", 5], ["乙乡", 2], ["丙镇", 3]]
    practices = [
        ["乡镇", "年度", "学习载体", "（一）特色做法", "（二）特色做法", "（三）特色做法"],
        ["甲镇", 2024, "周四“理论学堂”", "坚持每周一学。", "开展“支部联建”。", "推行“晨会点名”。"],
        ["甲镇", 2025, "周四“理论学堂”", "坚持每周一学。", "开展“支部联建”，结对8对。", "推行“晨会点名”。"],
        ["乙乡", 2024, "", "坚持每月一考。", "", ""],
        ["乙乡", 2025, "", "坚持每月一考，全年12次。", "", ""],
        ["丙镇", 2024, "无", "", "暂无", ""],
        ["丙镇", 2025, "", "坚持每周一学。", "", ""],
    ]
    write_xlsx(tmp_path / "数据.xlsx", {"乡镇概况": [PROFILE_HEADER, *PROFILE_ROWS], "2024": years, "2025": years,
                                       "特色做法": practices})
    result = zd.validate(tmp_path)
    assert result.errors == []
    notices = {(p.town, p.cell): str(p) for p in result.problems if p.level == "notice" and "已整理" not in p.message}
    notices = {k: v.replace(str(tmp_path / "数据.xlsx"), "{f}").replace("数据.xlsx", "{f}") for k, v in notices.items()}
    # 甲镇: two paragraphs of 2025 as in 2024 (one notice, at the first, naming both); its carrier's name, a phrase,
    # may stay; 乙乡 wrote its 2025 anew; 丙镇's 2024 row says nothing; its 2025 paragraph is nobody else's year
    assert notices == {
        ("甲镇", "D3"): "【提示】文件“{f}”，工作表“特色做法”，单元格D3：甲镇2025年的“（一）（三）特色做法”与2024年一字不差，报告会逐字"
                       "重复上年的内容；读到“坚持每周一学。”，应为2025年的做法和成效（确实没有变化的，可以不改）。",
        ("丙镇", "A6"): "【提示】文件“{f}”，工作表“特色做法”，单元格A6：丙镇2024年的特色做法各栏都没有填写（或只写了“无”），报告只能"
                       "写数据，写不出本乡镇的做法、自查问题和下一步打算，应为本年的做法、自查问题和下一步打算。",
    }
