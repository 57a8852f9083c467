"""The narrative: number wording, clause pruning, provenance, findings (fast: no notebook)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

import zhidang_analysis as zd
from zhidang_analysis.analysis import indicators as ind
from zhidang_analysis.analysis.problems import economic
from zhidang_analysis.model.catalog import load_wording
from zhidang_analysis.report import narrative
from zhidang_analysis.report.shortfalls import Shortfalls
from zhidang_analysis.report.narrative import chinese_numeral, chinese_year, format_number

SUBSECTIONS = ["（一）提高政治站位", "（二）强化组织建设", "（三）聚焦转变作风", "（四）突出“一岗双责”",
               "（五）树立底线思维", "（六）坚持党建引领"]


@pytest.fixture(scope="module")
def ds():
    return zd.load_dataset()


def soup_of(report) -> BeautifulSoup:
    return BeautifulSoup(str(report.html), "html.parser")


def value(ds, town, year, code):
    v = ds.values
    row = v[(v.town == town) & (v.year == year) & (v.indicator == code)].iloc[0]
    return row


# ------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(("n", "text"), [(0, "零"), (4, "四"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"),
                                         (21, "二十一"), (99, "九十九"), (100, "一百"), (105, "一百零五"),
                                         (1010, "一千零一十")])
def test_chinese_numeral(n, text):
    assert chinese_numeral(n) == text


def test_chinese_year_writes_each_digit_with_ling_circle():
    assert chinese_year(2025) == "二〇二五"
    assert chinese_year(2020) == "二〇二〇"


@pytest.mark.parametrize(("value", "kw", "text"), [
    (12.0, {}, "12"), (3.456, {"integer": False}, "3.46"), (120.5, {"integer": False}, "120.5"),
    (2.0, {"integer": False}, "2"), (4, {"numeral": "chinese"}, "四"),
])
def test_format_number(value, kw, text):
    assert format_number(value, **kw) == text


# ------------------------------------------------------------------------------------ the text
def test_report_has_three_parts_and_six_subsections(ds):
    r = narrative.town_report(ds, "青石镇", 2025)
    soup = soup_of(r)
    h2 = [h.get_text() for h in soup.find_all("h2")]
    assert h2 == ["一、责任落实情况", "二、存在的问题", "三、下一步工作打算"]
    h3 = [h.get_text() for h in soup.find_all("h3")]
    assert len(h3) == 6
    for h, prefix in zip(h3, SUBSECTIONS):
        assert h.startswith(prefix)
    assert soup.find("h1").get_text() == "中共青石镇委员会关于二〇二五年度履行全面从严治党主体责任暨书记第一责任人责任情况的报告"


def test_numbers_equal_the_data_and_carry_provenance(ds):
    r = narrative.town_report(ds, "青石镇", 2025)
    spans = soup_of(r).select("span.num")
    assert len(spans) >= 45
    for span in spans:
        code, year = span["data-indicator"], int(span["data-year"])
        assert year == 2025
        if ds.catalog.frame.at[code, "origin"] == "profile":
            expected = ds.profile.at["青石镇", code]
        else:
            row = value(ds, "青石镇", 2025, code)
            expected = row["value"]
            assert span["data-source"] == row["source"]
            assert re.fullmatch(r"示范县指标数据\.xlsx!2025年?![A-Z]+\d+", span["data-source"])
        assert float(span["data-value"]) == pytest.approx(expected)
        assert ds.catalog.name(code) in span["title"] and "2025年" in span["title"]
    theme = value(ds, "青石镇", 2025, "theme_party_days")["value"]
    assert f"开展主题党日活动{int(theme)}次" in r.text


def test_yoy_context_states_the_largest_increases_only(ds):
    """一 states a change against the year before only for an increase of what more is better of, at most the two
    largest (by rate) of a section: a fall is no achievement (二 lists those that matter), a flat year no news, nor a
    count up by one."""
    frame = ds.catalog.frame
    stated = 0
    for town in ds.towns:
        r = narrative.town_report(ds, town, 2025)
        head = r.text.split("二、存在的问题")[0]
        assert not re.search("比上年减少|同比下降|与上年持平", head), town
        y = ind.yoy(ds.values[ds.values["town"] == town], catalog=ds.catalog)
        y = y[(y["year"] == 2025) & (y["change"] > 0)].set_index("indicator")
        y = y[y.index.map(frame["polarity"]) > 0]
        y = y[~(y.index.map(frame["integer"]).fillna(True).astype(bool) & (y["change"] < 2))]  # up by one: no news
        y = y.assign(section=y.index.map(frame["section"])).sort_values("rate", ascending=False, kind="stable")
        told = {c for _, part in y.groupby("section") for c in part.index[:2]}
        for span in BeautifulSoup(str(r.html), "html.parser").select("span.chg"):
            assert span["data-indicator"] in told, (town, span.get_text())
        for section in re.split("（[一二三四五六]）", head)[1:]:
            assert len(re.findall("比上年增加|同比增长", section)) <= 2, (town, section)
        if "new_members" in told:  # a count is told by its amount, money by a rate with 同比
            now, before = (value(ds, town, yr, "new_members")["value"] for yr in (2025, 2024))
            assert f"发展党员{int(now)}名，比上年增加{int(now - before)}名" in r.text
            stated += 1
        if "tourism_income" in told:
            assert re.search(r"实现旅游综合收入[\d.]+万元，同比增长[\d.]+%", r.text)
            stated += 1
    assert stated >= 2


def test_yoy_option_off_removes_change_phrases(ds):
    text = narrative.town_report(ds, "青石镇", 2025, yoy=False).text
    assert "比上年" not in text.split("二、存在的问题")[0]
    assert "同比" not in text


def test_first_year_has_no_change_phrase(ds):
    text = narrative.town_report(ds, "青石镇", 2020).text.split("二、存在的问题")[0]
    assert "比上年" not in text and "同比" not in text


def test_not_applicable_clauses_are_left_out_without_dangling_punctuation(ds):
    t2021 = narrative.town_report(ds, "青石镇", 2021).text
    t2025 = narrative.town_report(ds, "青石镇", 2025).text
    assert "疫情防控突击队" in t2021 and "核酸检测" in t2021
    assert "疫情防控" not in t2025 and "核酸" not in t2025 and "消杀" not in t2025
    # the clause before the epidemic clauses now ends the sentence (in this town's formulation of it)
    aims = load_wording()["slots"]["organisation_aim"]
    assert sum(f"{aim}。" in t2025 for aim in aims) == 1
    for text in (t2021, t2025):
        assert not re.search(r"[，；]{2}|[，；]。|。[，；]|^[，；]", text, flags=re.M)
    # a town without a scenic area reports tourism as not applicable: that whole part goes
    t = narrative.town_report(ds, "河湾镇", 2025).text
    assert "景区" not in t and "文旅品牌" not in t and "民宿" not in t
    # 2020: the “我为群众办实事” activity started in 2021
    assert "我为群众办实事" not in narrative.town_report(ds, "青石镇", 2020).text.split("二、存在的问题")[0]


def test_missing_value_shows_marker_and_is_listed(ds):
    r = narrative.town_report(ds, "河湾镇", 2025)
    assert "开展双语宣讲【待补：双语宣讲次数】" in r.text
    assert r.missing["code"].tolist() == ["bilingual_lectures"]
    assert r.missing["source"].iloc[0] == value(ds, "河湾镇", 2025, "bilingual_lectures")["source"]
    listing = BeautifulSoup(str(r.missing_html()), "html.parser")
    assert "附：待补数据（1项）" in listing.get_text()
    assert "双语宣讲" in listing.li.get_text()


def test_approximate_values_keep_yu_and_exact_values_do_not(ds):
    # 松山乡 2025 home_study_visits was given as "xx余"
    row = value(ds, "松山乡", 2025, "home_study_visits")
    assert row["approx"]
    text = narrative.town_report(ds, "松山乡", 2025).text
    assert f"送学上门{int(row['value'])}余次" in text
    exact = value(ds, "青石镇", 2025, "home_study_visits")["value"]
    assert f"送学上门{int(exact)}次" in narrative.town_report(ds, "青石镇", 2025).text


def test_round_approx_option_writes_yu_for_counts_of_twenty_and_more(ds):
    exact = int(value(ds, "青石镇", 2025, "theme_party_days")["value"])
    text = narrative.town_report(ds, "青石镇", 2025, round_approx=True).text
    floor = exact // 10 * 10
    expected = f"开展主题党日活动{floor}余次" if floor != exact else f"开展主题党日活动{exact}次"
    assert expected in text


def test_chinese_numerals_for_fixed_terms(ds):
    text = narrative.town_report(ds, "青石镇", 2021).text
    aspects = int(value(ds, "青石镇", 2021, "screening_aspects")["value"])
    rounds = int(value(ds, "青石镇", 2021, "nat_rounds")["value"])
    # the aspects and the problems they hold are counts of one kind: both in Arabic numerals (GB/T 15835), not the
    # seed's 七个方面x个问题
    assert f"共发现{aspects}个方面" in text and f"共发现{chinese_numeral(aspects)}个方面" not in text
    assert f"核酸检测{chinese_numeral(rounds)}轮" in text
    # the county congress by its ordinal (in the general line of 三, which the seed town keeps as the seed has it;
    # another town's reads one only beside a lone measure)
    assert "县委第十五次党代会" in narrative.town_report(ds, "天堂镇", 2021).text


def test_year_phrases_and_profile_fill_the_xx_places(ds):
    t2021 = narrative.town_report(ds, "青石镇", 2021).text
    assert "扎实开展党史学习教育" in t2021
    assert "党的十九大及十九届二中、三中、四中、五中、六中全会精神" in t2021  # in this town's words around it
    assert "严肃换届纪律" in t2021  # 2021 is an election year
    t2025 = narrative.town_report(ds, "青石镇", 2025).text
    assert "党的二十大和二十届二中、三中、四中全会精神" in t2025
    assert "严肃换届纪律" not in t2025
    assert "习近平总书记对甘肃重要讲话" in t2025
    assert "为石峡村、青岭村居住分散的牧民群众开展双语宣讲" in t2025
    assert "“青石古道·峡谷人家”" in t2025 and "文旅品牌" in t2025 or "“青石古道·峡谷人家”品牌" in t2025
    # a 乡 writes 我乡/乡党委
    t = narrative.town_report(ds, "松山乡", 2025).text
    assert "我乡党委" in t and "我镇" not in t


def test_partial_coverage_is_told_as_villages(ds):
    # the first year: no rise to tell, so no 覆盖率 clause in 一 (二 says how many villages are short)
    text = narrative.town_report(ds, "柳林镇", 2020).text
    assert "12个行政村中10个实现“一肩挑”。" in text and "覆盖率" not in text.split("二、存在的问题")[0]
    assert "“一肩挑”尚未全覆盖，12个行政村中还有2个未实现" in text.split("二、存在的问题")[1]
    assert "12个行政村全部实现“一肩挑”" in narrative.town_report(ds, "柳林镇", 2025).text


def _items(part: str) -> list[str]:
    """The 一是…二是… items of a part of the report, in order."""
    return [m.strip("。\n ") for m in re.split(r"[一二三四五六七八九十]+是", part)[1:]]


def test_findings_become_problems_with_numbers_and_each_gets_its_measure(ds):
    r = narrative.town_report(ds, "柳林镇", 2025)  # a declining town
    assert r.findings, "the declining sample town should have data-driven problems"
    text = r.text
    problems = _items(text.split("二、存在的问题")[1].split("三、下一步工作打算")[0])
    plans = _items(text.split("三、下一步工作打算")[1].split("中共柳林镇委员会")[0])
    own = ds.practice("柳林镇", 2025)["own_problems"][0].splitlines()
    # the town's own problems first, then its data's shortfalls, one each — the Party's own work before the town's
    # economy (its own 马铃薯、食用菌合作社产业链条短 after the data's Party-work shortfalls)
    assert len(problems) == len(own) + len(r.findings)
    eco = [economic("own", "", o) for o in own]
    assert eco == [False, True]
    grows = [economic("data", f.section, "", ds.catalog.frame.at[f.codes[0], "sentence"]) for f in r.findings]
    order = ([("own", o) for o, e in zip(own, eco) if not e] + [("data", f) for f, g in zip(r.findings, grows) if not g]
             + [("own", o) for o, e in zip(own, eco) if e] + [("data", f) for f, g in zip(r.findings, grows) if g])
    mine = [i for i, (kind, _) in enumerate(order) if kind == "own"]
    assert mine[0] == 0 and mine[1] > 1
    # (the sample town names the same problems every year: 二 says they were named last year and are not solved)
    again = load_wording()["problem_again"]
    assert all(problems[i].rstrip("。").startswith(order[i][1].rstrip("。") + "，")
               and any(problems[i].rstrip("。").endswith(a) for a in again) for i in mine)
    told = [(problems[i], plans[i], f) for i, (kind, f) in enumerate(order) if kind == "data"]
    for item, _, finding in told:
        # one item per shortfall, or two shortfalls of one work (a group of wording.yaml) under the group's lead
        group = next((g for g in load_wording()["plans"]["groups"] if set(finding.codes) <= set(g["codes"])), None)
        assert len(finding.codes) == 1 or (group and len(finding.codes) == 2), finding.codes
        assert item.startswith(group["lead"] if len(finding.codes) == 2 else _leads(finding)), (item, finding.codes)
        assert re.search(r"(比上年(减少[\d.]+\S*|下降[\d.]+%)|未完成[\d.]+\S*的年度目标|仅完成[\d.]+\S*年度目标的[\d.]+%|尚未实现|居全县末位|每月开展一次)", item), item
    # 三 answers each item of 二 in the same order (as a 公文 writes it: the heading of the work, then its measures),
    # and a general line only beside a lone measure (more read as filler answering nothing: rounds 30, 34, 35)
    assert len(plans) == len(problems) + (len(problems) == 1 and len(plans) == 2)
    measures = load_wording()["plans"]
    missed = []
    for _, plan, finding in told:
        group = next((g for g in measures["groups"] if set(finding.codes) <= set(g["codes"])), None)
        # an indicator's measure, or its formulations (one of them is dealt to the town)
        texts = [[t] if isinstance(t := measures["by_indicator"][c], str) else t
                 for c in finding.codes if c in measures["by_indicator"]]
        texts = texts or [[measures["by_section"][finding.section]]]
        firmer = [measures["again"].get(c) for c in finding.codes]
        if finding.repeated and all(firmer) and len(finding.codes) == 1:  # listed last year too: its firmer measure
            texts = [firmer[:1]]
        head = group["head"] if len(finding.codes) == 2 else texts[0][0].split("。")[0]
        assert plan.startswith(f"{head}。"), plan
        # each measure's words (around the town's industries where it names them), in one of its formulations
        assert all(any(all(part.format(k="镇") in plan for part in t.split("。", 1)[1].split("{industries}"))
                       for t in variants) for variants in texts), plan
        missed += ["target_missed" in finding.kinds or "的年度目标" in str(finding.text)]  # (inside a norm's item)
    # a missed target's measure ends on it, once in 三 (the first measure that answers one)
    said = [p.endswith(tuple(load_wording()["plans"]["target_close"])) for _, p, _ in told]
    assert said == [m and not any(missed[:i]) for i, m in enumerate(missed)], (plans, missed)


def test_the_towns_own_measures_answer_its_own_problems(ds):
    practices = ds.practices.copy()
    row = practices[(practices["town"] == "柳林镇") & (practices["year"] == 2025)].iloc[0]
    extra = pd.DataFrame([{"town": "柳林镇", "year": 2025, "field": "own_plans",
                           "text": "建立后备干部“一人一档”，年内每村储备两名以上\n每月调度一次合作社运营", "source": "特色做法.xlsx!特色做法!R9"}])
    d = zd.Dataset(values=ds.values, profile=ds.profile, targets=ds.targets, catalog=ds.catalog,
                   practices=pd.concat([practices, extra], ignore_index=True))
    assert row["town"] == "柳林镇"
    r = narrative.town_report(d, "柳林镇", 2025)
    plans = _items(r.text.split("三、下一步工作打算")[1].split("中共柳林镇委员会")[0])
    own = ds.practice("柳林镇", 2025)["own_problems"][0].splitlines()
    topics = load_wording()["plans"]["by_topic"]
    # the town's own measure as it wrote it, under the heading of its problem's topic (none for the catch-all one);
    # each stays with its problem, where 二 tells it (the Party's own work first, the town's economy after it)
    problems = _items(r.text.split("二、存在的问题")[1].split("三、下一步工作打算")[0])
    at = [next(k for k, p in enumerate(problems) if p.startswith(o.rstrip("。"))) for o in own]
    for k, mine, problem in zip(at, ["建立后备干部“一人一档”，年内每村储备两名以上", "每月调度一次合作社运营"], own):
        plan = plans[k]
        topic = next(t for t in topics if not t["keywords"] or any(k in problem for k in t["keywords"]))
        head = Shortfalls._topic_words(topic, problem)["head"]
        assert plan == (f"{head}。{mine}" if topic["keywords"] else mine), (plan, problem)
    assert plans[0] == "加强村级后备力量培养。建立后备干部“一人一档”，年内每村储备两名以上"
    # a third own problem without a measure of the town's gets the measure of its kind, under its heading
    if len(own) > 2:
        topic = next(t for t in load_wording()["plans"]["by_topic"]
                     if not t["keywords"] or any(k in own[2] for k in t["keywords"]))
        assert plans[at[2]].startswith(Shortfalls._topic_words(topic, own[2])["head"] + "。"), plans[at[2]]


def test_general_problems_only_for_a_town_with_none_of_its_own(ds):
    r = narrative.town_report(ds, "柳林镇", 2025)
    problems = r.text.split("二、存在的问题")[1].split("三、下一步工作打算")[0]
    assert "宗旨意识淡化" not in problems
    r = narrative.town_report(ds, "柳林镇", 2025, general_problems=True)  # asked for: filled up to three
    own = len(ds.practice("柳林镇", 2025)["own_problems"][0].splitlines())
    n = len(_items(r.text.split("二、存在的问题")[1].split("三、下一步工作打算")[0]))
    assert n == max(3, own + len(r.findings))


def _leads(finding) -> tuple[str, ...]:
    """The words a data problem may open with: its indicator's lead in the phrase bank (or one of its formulations,
    dealt among the towns that list it), else its section's."""
    leads = load_wording()["problem_leads"]
    fell = finding.kinds[0] in ("decline", "slip") and leads.get(f"{finding.codes[0]}_fall")
    lead = fell or leads.get(finding.codes[0]) or leads[finding.section]
    return tuple(x.format(k="镇") for x in ([lead] if isinstance(lead, str) else lead))


def test_unknown_town_or_year_raises_package_error(ds):
    with pytest.raises(zd.UnknownNameError, match="未找到乡镇“青石”") as e:
        narrative.town_report(ds, "青石", 2025)
    assert "青石镇" in e.value.suggestions
    with pytest.raises(zd.UnknownNameError, match="年度"):
        narrative.town_report(ds, "青石镇", 2019)


def test_town_name_and_profile_text_are_escaped(ds):
    profile = ds.profile.copy()
    profile.loc["青石镇", "tourism_brand"] = "<script>alert(1)</script>"
    nasty = zd.Dataset(values=ds.values, profile=profile, targets=ds.targets, catalog=ds.catalog)
    html = str(narrative.town_report(nasty, "青石镇", 2025).html)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_zero_only_clause_is_dropped():
    html = "<p>新建小游园\ue001<span>0处</span>，藏式民宿\ue002<span>3套</span>。开展\ue001<span>0次</span>。</p>"
    assert narrative._prune(html) == "<p>藏式民宿<span>3套</span>。</p>"


def test_report_text_has_no_placeholder_left(ds):
    for town, year in (("青石镇", 2021), ("河湾镇", 2025)):
        text = narrative.town_report(ds, town, year).text
        assert not re.search(r"(?<![A-Za-z])[xX]{1,3}(?![A-Za-z])", text)
        assert "\ue000" not in text and "\ue001" not in text and "\ue002" not in text


def test_report_objects_render_in_jupyter(ds):
    r = narrative.town_report(ds, "青石镇", 2025)
    assert r._repr_html_().startswith('<h1 class="title">')
    assert isinstance(r.missing, pd.DataFrame)


def test_pruning_ignores_punctuation_inside_tag_attributes():
    html = ('<p>新建小游园\ue001<span title="示范县，指标.xlsx">0处</span>，'
            '藏式民宿\ue002<span title="a；b">3套</span>。</p>')
    assert narrative._prune(html) == '<p>藏式民宿<span title="a；b">3套</span>。</p>'


def _with_value(ds, town, year, code, value):
    v = ds.values.copy()
    mask = (v.town == town) & (v.year == year) & (v.indicator == code)
    v.loc[mask, "value"] = value
    v.loc[mask, "status"] = "present"
    return zd.Dataset(values=v, profile=ds.profile, targets=ds.targets, catalog=ds.catalog, practices=ds.practices)


def test_a_rise_of_a_share_is_told_in_percentage_points(ds):
    # 柳林镇 has 12 villages: 10 with 一肩挑 in 2020; make it 11 in 2021 -> 91.7%, up 8.3 points
    d = _with_value(ds, "柳林镇", 2021, "yijiantiao_villages", 11.0)
    text = narrative.town_report(d, "柳林镇", 2021).text
    assert "12个行政村中11个实现“一肩挑”，“一肩挑”覆盖率91.7%，比上年提高8.3个百分点" in text
    d = _with_value(d, "柳林镇", 2022, "yijiantiao_villages", 10.0)
    text = narrative.town_report(d, "柳林镇", 2022).text  # a fall is not told in 一 (二 lists the village short)
    assert "12个行政村中10个实现“一肩挑”。" in text and "覆盖率" not in text.split("二、存在的问题")[0]


def test_a_rate_that_rounds_to_zero_is_told_as_an_absolute_change(ds):
    before = value(ds, "青石镇", 2024, "tourism_income")["value"]
    d = _with_value(ds, "青石镇", 2025, "tourism_income", before + 2.0)  # +0.02%: never "同比增长0%"
    filler = narrative._Filler(d, "青石镇", 2025, narrative.ReportOptions())
    filler._told = {"tourism_income"}  # (一) tells only a section's two largest increases: say this one
    text = BeautifulSoup(str(filler.change("tourism_income")), "html.parser").get_text()
    assert text == "，比上年增加2万元"


def test_outlier_findings_never_contradict_their_numbers(ds):
    pattern = re.compile(r"(\d+(?:\.\d+)?)[^\d，；。]*，明显低于全县中位数(\d+(?:\.\d+)?)")
    seen = 0
    for year in ds.years:
        for town in ds.towns:
            for m in pattern.finditer(narrative.town_report(ds, town, year).text):
                seen += 1
                assert float(m.group(1)) < float(m.group(2)), m.group(0)
    assert seen >= 0  # the sample may have none; what matters is that none contradicts itself


def test_every_digit_in_the_narrative_carries_its_provenance(ds):
    """Digits outside a span with data-source/title are only fixed wording (一小时, 周四…) or the title year."""
    for town, year in (("青石镇", 2025), ("柳林镇", 2025), ("青石镇", 2021)):
        soup = soup_of(narrative.town_report(ds, town, year))
        for p in soup.find_all("p"):
            if "signoff" in (p.get("class") or []):
                continue  # the date under the sign-off
            for span in p.find_all("span"):
                assert span.get("title"), span
                if "num" in span["class"] or "chg" in span["class"]:
                    assert span.get("data-source"), span
                span.decompose()
            assert not re.search(r"\d", p.get_text()), p.get_text()


def test_a_zero_half_of_a_clause_is_left_out(ds):
    d = _with_value(ds, "青石镇", 2025, "provincial_demo_villages", 0.0)
    d = _with_value(d, "青石镇", 2025, "county_demo_villages", 2.0)
    text = narrative.town_report(d, "青石镇", 2025).text
    assert re.search(r"先后投资[\d.]+万元，建成县级示范村2个，投资", text)
    assert "示范村0个" not in text
    d = _with_value(d, "青石镇", 2025, "county_demo_villages", 0.0)
    text = narrative.town_report(d, "青石镇", 2025).text
    kinds = ds.practice("青石镇", 2025)["key_project_kinds"][0]
    assert re.search(rf"先后投资[\d.]+万元，投资[\d.]+万元实施{kinds}等\d+项重点项目", text)
    assert "建成" not in text.split("先后投资")[1][:30]
