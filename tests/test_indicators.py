"""Indicator functions, checked on tiny hand-built frames against values worked out by hand.

Every frame here has 1–4 towns, 1–3 years and real catalog codes. Polarity matters for several results,
so ``test_catalog_polarities_these_tests_assume`` pins the ones the hand computations rely on; the
less-is-better case (no catalog code has it today) uses a copy of the catalog with one code reversed.
"""

from __future__ import annotations

import copy
import dataclasses
import doctest

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from zhidang_analysis.analysis import indicators as ind
from zhidang_analysis.model.catalog import load_catalog
from zhidang_analysis.errors import UnknownNameError, ZhidangError

NA = pd.NA
nan = np.nan
COLS = ["town", "year", "indicator", "value", "approx", "status"]


def tidy(*rows) -> pd.DataFrame:
    """Tidy values from ``(town, year, code, value[, status[, approx]])``.

    ``value`` None means no number: status ``missing`` unless a status is given (``na``).
    """
    recs = []
    for town, year, code, value, *rest in rows:
        status = rest[0] if rest else ("missing" if value is None else "present")
        approx = rest[1] if len(rest) > 1 else False
        recs.append((town, year, code, nan if value is None else float(value), approx, status))
    return pd.DataFrame(recs, columns=COLS)


def profile(**towns) -> pd.DataFrame:
    """Profile indexed by town from ``town=(villages, party_members, population, party_branches)``."""
    return pd.DataFrame.from_dict(towns, orient="index",
                                  columns=["villages", "party_members", "population", "party_branches"],
                                  dtype="float64").rename_axis("town")


def targets(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["town", "year", "indicator", "target"]).astype({"target": "float64"})


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.fixture(scope="module")
def reversed_cat(cat):
    """The catalog with supervised_cadres made a less-is-better performance measure (polarity -1)."""
    frame = cat.frame.copy()
    frame.loc["supervised_cadres", "polarity"] = -1
    frame.loc["supervised_cadres", "measure"] = "performance"
    return dataclasses.replace(cat, frame=frame)


PROF = profile(甲镇=(10, 200, 20000, 12), 乙镇=(5, 100, 10000, 6), 丙镇=(4, 80, 8000, 5))


def test_catalog_polarities_these_tests_assume(cat):
    assert cat.frame.loc[["new_members", "theme_party_days", "five_star_branches", "yijiantiao_villages",
                          "supervised_cadres"], "polarity"].tolist() == [1, 1, 1, 1, 1]
    assert cat.frame.at["weak_org_villages", "polarity"] == 0
    assert (cat.frame.at["epidemic_teams", "first_year"], cat.frame.at["epidemic_teams", "last_year"]) == (2020, 2022)
    assert [cat.frame.at[c, "section"] for c in ("new_members", "theme_party_days", "supervised_cadres")] == \
        ["s2", "s2", "s3"]


# --------------------------------------------------------------------------------------------- slicing
def test_town_year_is_a_series_keyed_by_code_with_nan_for_missing_and_na():
    v = tidy(("甲镇", 2023, "new_members", 12), ("甲镇", 2023, "theme_party_days", None),
             ("甲镇", 2023, "epidemic_teams", None, "na"), ("乙镇", 2023, "new_members", 9),
             ("甲镇", 2022, "new_members", 10))
    expected = pd.Series([12.0, nan, nan], index=pd.Index(["new_members", "theme_party_days", "epidemic_teams"],
                                                          name="indicator"), name="甲镇2023")
    assert_series_equal(ind.town_year(v, "甲镇", 2023), expected)


def test_town_table_is_town_by_indicator_for_one_year_in_catalog_order():
    v = tidy(("甲镇", 2023, "new_members", 12), ("甲镇", 2023, "theme_party_days", 30),
             ("乙镇", 2023, "new_members", 9), ("乙镇", 2023, "theme_party_days", None),
             ("乙镇", 2022, "new_members", 99))
    expected = pd.DataFrame({"theme_party_days": [nan, 30.0], "new_members": [9.0, 12.0]},
                            index=pd.Index(["乙镇", "甲镇"], name="town")).rename_axis(columns="indicator")
    assert_frame_equal(ind.town_table(v, 2023), expected)


def test_town_table_labels_are_chinese_names_with_units():
    v = tidy(("甲镇", 2023, "new_members", 12), ("甲镇", 2023, "theme_party_days", 30))
    assert list(ind.town_table(v, 2023, labels=True).columns) == ["主题党日活动（次）", "发展党员（名）"]


def test_town_table_codes_shows_each_code_asked_for_even_one_that_does_not_apply_that_year():
    v = tidy(("甲镇", 2022, "epidemic_teams", 3), ("甲镇", 2023, "new_members", 12), ("乙镇", 2023, "new_members", 9))
    expected = pd.DataFrame({"new_members": [9.0, 12.0], "epidemic_teams": [nan, nan]},
                            index=pd.Index(["乙镇", "甲镇"], name="town")).rename_axis(columns="indicator")
    assert_frame_equal(ind.town_table(v, 2023, codes=["new_members", "epidemic_teams"]), expected)


def test_year_table_is_the_towns_series_by_year_and_trend_is_the_same_function():
    v = tidy(("甲镇", 2021, "new_members", 10), ("甲镇", 2022, "new_members", 12),
             ("甲镇", 2021, "epidemic_teams", 2), ("甲镇", 2023, "epidemic_teams", None, "na"),
             ("甲镇", 2023, "new_members", 9), ("乙镇", 2023, "new_members", 1))
    expected = pd.DataFrame({"epidemic_teams": [2.0, nan, nan], "new_members": [10.0, 12.0, 9.0]},
                            index=pd.Index([2021, 2022, 2023], name="year")).rename_axis(columns="indicator")
    assert_frame_equal(ind.year_table(v, "甲镇"), expected)
    assert ind.trend is ind.year_table
    assert list(ind.trend(v, "甲镇", codes=["new_members"], labels=True).columns) == ["发展党员（名）"]


SLICE_V = tidy(("甲镇", 2022, "new_members", 10), ("乙镇", 2023, "new_members", 9))


@pytest.mark.parametrize(
    ("call", "name", "suggestion"),
    [
        (lambda v: ind.town_year(v, "甲乡", 2022), "甲乡", "甲镇"),
        (lambda v: ind.town_year(v, "甲镇", 2020), 2020, "2022"),
        (lambda v: ind.town_table(v, 2024), 2024, "2023"),
        (lambda v: ind.town_table(v, 2023, codes=["new_member"]), "new_member", "new_members"),
        (lambda v: ind.year_table(v, "丙镇"), "丙镇", "甲镇"),
        (lambda v: ind.year_table(v, "甲镇", codes=["theme_party_day"]), "theme_party_day", "theme_party_days"),
        (lambda v: ind.trend(v, "乙乡"), "乙乡", "乙镇"),
        (lambda v: ind.county_compare(v, year=2030), 2030, "2023"),
        (lambda v: ind.cagr(v, start=2019), 2019, "2022"),
        (lambda v: ind.cagr(v, end=2025), 2025, "2022"),
    ],
    ids=["town_year-town", "town_year-year", "town_table-year", "town_table-code", "year_table-town",
         "year_table-code", "trend-town", "county_compare-year", "cagr-start", "cagr-end"],
)
def test_unknown_town_year_or_code_raises_unknown_name_error_with_suggestions(call, name, suggestion):
    with pytest.raises(UnknownNameError) as info:
        call(SLICE_V)
    err = info.value
    assert err.name == name
    assert suggestion in err.suggestions
    assert str(name) in str(err) and suggestion in str(err)
    assert isinstance(err, ZhidangError) and isinstance(err, KeyError)


# --------------------------------------------------------------------------------------------- yoy
def test_yoy_change_rate_words_and_improved_against_the_previous_present_year():
    v = tidy(("甲镇", 2021, "new_members", 10), ("甲镇", 2022, "new_members", 12), ("甲镇", 2023, "new_members", 9),
             ("乙镇", 2021, "new_members", 8), ("乙镇", 2022, "new_members", None), ("乙镇", 2023, "new_members", 8))
    expected = v.assign(
        prev_year=pd.array([NA, 2021, 2022, NA, NA, 2021], dtype="Int64"),  # 乙镇 2023 skips its missing 2022
        prev_value=[nan, 10.0, 12.0, nan, nan, 8.0],
        change=[nan, 2.0, -3.0, nan, nan, 0.0],
        rate=[nan, 0.2, -0.25, nan, nan, 0.0],
        change_word=[nan, "增加", "减少", nan, nan, "持平"],
        rate_word=[nan, "增长", "下降", nan, nan, "持平"],
        improved=pd.array([NA, True, False, NA, NA, NA], dtype="boolean"),
    )
    assert_frame_equal(ind.yoy(v), expected)


def test_yoy_first_year_has_no_previous_value():
    v = tidy(("甲镇", 2023, "new_members", 5), ("乙镇", 2023, "new_members", 7))
    y = ind.yoy(v)
    assert y["prev_year"].isna().all() and y["prev_value"].isna().all() and y["rate"].isna().all()
    assert y["change_word"].isna().all() and y["improved"].isna().all()


def test_yoy_rate_is_nan_not_inf_or_zero_when_the_base_is_zero():
    v = tidy(("甲镇", 2022, "new_members", 0), ("甲镇", 2023, "new_members", 5),
             ("乙镇", 2022, "new_members", 0), ("乙镇", 2023, "new_members", 0))
    y = ind.yoy(v)
    assert_frame_equal(
        y.loc[[1, 3], ["change", "rate", "change_word", "rate_word"]],
        pd.DataFrame({"change": [5.0, 0.0], "rate": [nan, nan], "change_word": ["增加", "持平"],
                      "rate_word": ["增长", "持平"]}, index=[1, 3]),
    )
    assert not np.isinf(y["rate"]).any()


def test_yoy_keeps_missing_and_na_rows_with_empty_change():
    v = tidy(("甲镇", 2022, "epidemic_teams", 4), ("甲镇", 2023, "epidemic_teams", None, "na"),
             ("甲镇", 2022, "new_members", 6), ("甲镇", 2023, "new_members", None))
    y = ind.yoy(v)
    assert len(y) == 4
    assert y.loc[[1, 3], ["prev_value", "change", "rate"]].isna().all().all()
    assert y.loc[[1, 3], "status"].tolist() == ["na", "missing"]


def test_yoy_of_an_indicator_that_applies_only_in_some_years_compares_within_those_years():
    v = tidy(("甲镇", 2021, "epidemic_teams", 5), ("甲镇", 2022, "epidemic_teams", 7),
             ("甲镇", 2023, "epidemic_teams", None, "na"))
    y = ind.yoy(v)
    assert y["change"].tolist()[1] == 2.0
    assert y["rate"].tolist()[1] == pytest.approx(0.4)
    assert y.loc[[0, 2], "change"].isna().all()


def test_yoy_improved_follows_polarity_and_is_na_for_a_neutral_indicator(reversed_cat):
    v = tidy(("甲镇", 2022, "weak_org_villages", 3), ("甲镇", 2023, "weak_org_villages", 5),
             ("甲镇", 2022, "supervised_cadres", 30), ("甲镇", 2023, "supervised_cadres", 20))
    y = ind.yoy(v)
    assert y.loc[1, "change_word"] == "增加" and y.loc[1, "improved"] is NA
    assert y.loc[3, "change_word"] == "减少" and y.loc[3, "improved"] == False  # noqa: E712
    # less is better: the same fall is an improvement
    assert ind.yoy(v, catalog=reversed_cat).loc[3, "improved"] == True  # noqa: E712


def test_yoy_keeps_the_callers_index_even_a_duplicated_one():
    a = tidy(("甲镇", 2022, "new_members", 10), ("乙镇", 2022, "new_members", 8))
    b = tidy(("甲镇", 2023, "new_members", 12), ("乙镇", 2023, "new_members", 6))
    v = pd.concat([a, b])  # index 0, 1, 0, 1
    y = ind.yoy(v)
    assert y.index.tolist() == [0, 1, 0, 1]
    assert y["change"].tolist()[2:] == [2.0, -2.0]


# --------------------------------------------------------------------------------------------- trends
def test_cagr_between_the_first_and_last_present_year_nan_for_zero_base_or_single_year():
    v = tidy(("甲镇", 2021, "new_members", 10), ("甲镇", 2022, "new_members", None), ("甲镇", 2023, "new_members", 14.4),
             ("乙镇", 2021, "new_members", 0), ("乙镇", 2023, "new_members", 5),
             ("丙镇", 2021, "new_members", None), ("丙镇", 2023, "new_members", 3))
    expected = pd.DataFrame(
        {"start_year": [2023, 2021, 2021], "start_value": [3.0, 0.0, 10.0],
         "end_year": [2023, 2023, 2023], "end_value": [3.0, 5.0, 14.4],
         "years": [0.0, 2.0, 2.0], "cagr": [nan, nan, 0.2]},  # (14.4 / 10) ** (1/2) - 1 = 0.2
        index=pd.MultiIndex.from_tuples([("丙镇", "new_members"), ("乙镇", "new_members"), ("甲镇", "new_members")],
                                        names=["town", "indicator"]),
    )
    assert_frame_equal(ind.cagr(v), expected)


def test_cagr_start_and_end_choose_the_span():
    v = tidy(("甲镇", 2021, "new_members", 10), ("甲镇", 2022, "new_members", 12), ("甲镇", 2023, "new_members", 18))
    assert ind.cagr(v, start=2021, end=2022)["cagr"].iloc[0] == pytest.approx(0.2)
    assert ind.cagr(v, start=2022)["cagr"].iloc[0] == pytest.approx(0.5)


def test_best_year_is_the_highest_value_earliest_on_a_tie_ignoring_missing():
    v = tidy(("甲镇", 2021, "new_members", 10), ("甲镇", 2022, "new_members", 14), ("甲镇", 2023, "new_members", 14),
             ("乙镇", 2021, "new_members", 6), ("乙镇", 2022, "new_members", None), ("乙镇", 2023, "new_members", 5))
    expected = pd.DataFrame({"best_year": [2021, 2022], "best_value": [6.0, 14.0]},
                            index=pd.MultiIndex.from_tuples([("乙镇", "new_members"), ("甲镇", "new_members")],
                                                            names=["town", "indicator"]))
    assert_frame_equal(ind.best_year(v), expected)


def test_best_year_is_the_lowest_value_when_less_is_better(reversed_cat):
    v = tidy(("甲镇", 2021, "supervised_cadres", 10), ("甲镇", 2022, "supervised_cadres", 4),
             ("甲镇", 2023, "supervised_cadres", 7))
    assert ind.best_year(v, catalog=reversed_cat)["best_year"].tolist() == [2022]
    assert ind.best_year(v)["best_year"].tolist() == [2021]


# --------------------------------------------------------------------------------------------- targets
def test_target_completion_rate_met_and_gap_and_a_town_without_targets_has_no_rows():
    v = tidy(("甲镇", 2023, "new_members", 9), ("乙镇", 2023, "new_members", 12), ("乙镇", 2022, "new_members", None),
             ("丙镇", 2023, "new_members", 3), ("甲镇", 2023, "theme_party_days", 4))
    t = targets(("甲镇", 2023, "new_members", 12), ("乙镇", 2023, "new_members", 10),
                ("乙镇", 2022, "new_members", 10), ("甲镇", 2023, "theme_party_days", 0))
    expected = pd.DataFrame({
        "town": ["甲镇", "乙镇", "乙镇", "甲镇"], "year": [2023, 2023, 2022, 2023],
        "indicator": ["new_members", "new_members", "new_members", "theme_party_days"],
        "target": [12.0, 10.0, 10.0, 0.0], "value": [9.0, 12.0, nan, 4.0],
        "completion": [0.75, 1.2, nan, nan],            # a zero target has no completion rate
        "met": pd.array([False, True, NA, True], dtype="boolean"),  # no value: unknown
        "gap": [-3.0, 2.0, nan, 4.0],
    })
    out = ind.target_completion(v, t)
    assert_frame_equal(out, expected)
    assert "丙镇" not in set(out["town"])


def test_target_completion_met_at_or_below_target_when_less_is_better(reversed_cat):
    v = tidy(("甲镇", 2023, "supervised_cadres", 8), ("乙镇", 2023, "supervised_cadres", 10),
             ("丙镇", 2023, "supervised_cadres", 12))
    t = targets(*[(town, 2023, "supervised_cadres", 10) for town in ("甲镇", "乙镇", "丙镇")])
    assert ind.target_completion(v, t, catalog=reversed_cat)["met"].tolist() == [True, True, False]


def test_target_completion_blank_target_is_not_a_missed_target():
    v = tidy(("甲镇", 2023, "new_members", 9))
    t = targets(("甲镇", 2023, "new_members", nan))
    assert ind.target_completion(v, t)["met"].tolist() == [NA]


# --------------------------------------------------------------------------------------------- per capita
def test_per_capita_per_100_members_per_village_per_10k_people():
    v = tidy(("甲镇", 2023, "theme_party_days", 50), ("乙镇", 2023, "theme_party_days", 20),
             ("丙镇", 2023, "theme_party_days", None), ("丁镇", 2023, "theme_party_days", 7))
    prof = profile(甲镇=(10, 200, 20000, 12), 乙镇=(0, 100, 10000, 6))
    out = ind.per_capita(v, prof)
    assert_frame_equal(
        out[["town", "per_100_members", "per_village", "per_10k_people"]],
        pd.DataFrame({"town": ["甲镇", "乙镇", "丁镇"],
                      "per_100_members": [25.0, 20.0, nan],   # 50 / 200 × 100; 20 / 100 × 100
                      "per_village": [5.0, nan, nan],         # 50 / 10; zero villages → NaN
                      "per_10k_people": [25.0, 20.0, nan]},   # 50 / 20000 × 10000
                     index=[0, 1, 3]),
    )


def test_coverage_villages_with_yijiantiao_over_all_villages_and_five_star_share():
    v = tidy(("甲镇", 2023, "yijiantiao_villages", 8), ("乙镇", 2023, "yijiantiao_villages", 5),
             ("丙镇", 2023, "yijiantiao_villages", None), ("甲镇", 2023, "five_star_branches", 3))
    expected = pd.DataFrame({
        "town": ["甲镇", "乙镇", "甲镇"], "year": [2023, 2023, 2023],
        "code": ["yijiantiao_rate", "yijiantiao_rate", "five_star_rate"],
        "name": ["“一肩挑”覆盖率", "“一肩挑”覆盖率", "五星级党支部占比"],
        "numerator": [8.0, 5.0, 3.0], "denominator": [10.0, 5.0, 12.0],
        "ratio": [0.8, 1.0, 0.25],
    })
    assert_frame_equal(ind.coverage(v, PROF), expected)


# --------------------------------------------------------------------------------------------- county
def test_county_compare_rank_percentile_mean_median_and_gap_with_ties():
    v = tidy(("甲镇", 2023, "new_members", 12), ("乙镇", 2023, "new_members", 9),
             ("丙镇", 2023, "new_members", 12), ("丁镇", 2023, "new_members", 6))
    expected = v.assign(
        rank=[1, 3, 1, 4],                                   # tied towns share the best rank
        n_towns=[4, 4, 4, 4],
        percentile=[100.0, 100 / 3, 100.0, 0.0],             # at least as good as 3, 1, 3, 0 of the 3 others
        county_mean=[9.75] * 4,                              # 39 / 4
        county_median=[10.5] * 4,                            # (9 + 12) / 2
        gap_to_median=[1.5, -1.5, 1.5, -4.5],
    )
    assert_frame_equal(ind.county_compare(v, 2023), expected)


def test_county_compare_ranks_ascending_when_less_is_better(reversed_cat):
    v = tidy(("甲镇", 2023, "supervised_cadres", 8), ("乙镇", 2023, "supervised_cadres", 10),
             ("丙镇", 2023, "supervised_cadres", 12))
    out = ind.county_compare(v, 2023, catalog=reversed_cat)
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["percentile"].tolist() == [100.0, 50.0, 0.0]


def test_county_compare_leaves_out_missing_rows_and_ranks_each_year_separately():
    v = tidy(("甲镇", 2022, "new_members", 5), ("乙镇", 2022, "new_members", 7),
             ("甲镇", 2023, "new_members", 9), ("乙镇", 2023, "new_members", None),
             ("甲镇", 2023, "epidemic_teams", None, "na"))
    out = ind.county_compare(v)
    assert out.index.tolist() == [0, 1, 2]
    assert out["rank"].tolist() == [2, 1, 1]
    assert out["n_towns"].tolist() == [2, 2, 1]
    assert out["percentile"].tolist() == [0.0, 100.0, 100.0]  # a lone reporting town
    assert out["gap_to_median"].tolist() == [-1.0, 1.0, 0.0]


# --------------------------------------------------------------------------------------------- composite
def composite_values() -> pd.DataFrame:
    return tidy(
        ("甲镇", 2023, "new_members", 10), ("乙镇", 2023, "new_members", 8), ("丙镇", 2023, "new_members", 2),
        ("甲镇", 2023, "theme_party_days", 50), ("乙镇", 2023, "theme_party_days", 30),
        ("丙镇", 2023, "theme_party_days", 20),
        ("甲镇", 2023, "income_per_household", 0.2), ("乙镇", 2023, "income_per_household", 0.2),
        ("丙镇", 2023, "income_per_household", 0.3),
        ("甲镇", 2023, "supervised_cadres", 9), ("乙镇", 2023, "supervised_cadres", 1),  # a volume: not scored
        ("甲镇", 2023, "micro_power_checkpoints", 30), ("乙镇", 2023, "micro_power_checkpoints", 5),  # a checklist
        ("甲镇", 2023, "weak_org_villages", 1), ("乙镇", 2023, "weak_org_villages", 9),   # neutral: not scored
        ("丙镇", 2023, "epidemic_teams", None, "na"), ("甲镇", 2023, "five_star_branches", None),
    )


def test_composite_score_by_hand_for_three_towns():
    # new_members per 100 members: 甲 10/200 → 5, 乙 8/100 → 8, 丙 2/80 → 2.5 → points 50, 100, 0
    # theme_party_days per 党支部 (12, 6, 5): 甲 50/12 → 4.17, 乙 30/6 → 5, 丙 20/5 → 4 → 50, 100, 0
    # income_per_household as reported: 0.2, 0.2, 0.3 → 甲 乙 tie at rank 1.5 → 25, 25, 100
    # supervised_cadres (a volume), micro_power_checkpoints (a checklist), weak_org_villages (neutral): not scored,
    # so sections (三) and (五) have no score
    s2 = {"甲镇": (50 + 50) / 2, "乙镇": (100 + 100) / 2, "丙镇": (0 + 0) / 2}
    s6 = {"甲镇": 25.0, "乙镇": 25.0, "丙镇": 100.0}
    score = {t: (0.25 * s2[t] + 0.20 * s6[t]) / 0.45 for t in s2}  # weights s2 0.25, s6 0.20; others absent
    towns = ["丙镇", "乙镇", "甲镇"]
    expected = pd.DataFrame(
        {"s1": nan, "s2": [s2[t] for t in towns], "s3": nan, "s4": nan, "s5": nan, "s6": [s6[t] for t in towns],
         "score": [score[t] for t in towns], "rank": pd.array([2, 1, 3], dtype="Int64")},
        index=pd.MultiIndex.from_tuples([(t, 2023) for t in towns], names=["town", "year"]),
    )
    assert score == pytest.approx({"甲镇": 38.888889, "乙镇": 66.666667, "丙镇": 44.444444})
    assert_frame_equal(ind.composite_score(composite_values(), PROF), expected)


def test_composite_score_weights_argument_and_a_lone_reporting_town_scores_50():
    v = composite_values()
    out = ind.composite_score(v, PROF, weights={"s6": 1.0})
    assert list(out.columns) == ["s6", "score", "rank"]
    assert out["score"].tolist() == [100.0, 25.0, 25.0]
    assert out["rank"].tolist() == [1, 2, 2]
    lone = tidy(("甲镇", 2023, "income_per_household", 0.2))
    assert ind.composite_score(lone, PROF)["score"].tolist() == [50.0]


def test_composite_score_reverses_points_when_less_is_better(reversed_cat):
    v = tidy(("甲镇", 2023, "supervised_cadres", 10), ("乙镇", 2023, "supervised_cadres", 20))
    assert ind.composite_score(v, PROF, catalog=reversed_cat)["s3"].tolist() == [0.0, 100.0]  # 乙镇, 甲镇
    assert ind.composite_score(v, PROF).empty  # as the catalog has it, a volume: not scored at all


# --------------------------------------------------------------------------------------------- flags
FLAG_COLS = ["town", "year", "indicator", "flag", "severity", "value", "reference", "ratio", "message"]


def flags_frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=FLAG_COLS).astype({"value": "float64", "reference": "float64",
                                                                "ratio": "float64"})


def test_flags_missing_applicable_value():
    v = tidy(("甲镇", 2023, "new_members", None), ("甲镇", 2023, "epidemic_teams", None, "na"),
             ("乙镇", 2023, "new_members", 6))
    assert_frame_equal(ind.flags(v), flags_frame(
        ("甲镇", 2023, "new_members", "missing", "medium", nan, nan, nan, "发展党员未填报")))


def test_flags_missing_without_a_status_column_is_a_nan_value_in_an_applicable_year():
    v = tidy(("甲镇", 2023, "new_members", None), ("甲镇", 2023, "epidemic_teams", None),
             ("甲镇", 2022, "epidemic_teams", None)).drop(columns=["status", "approx"])
    out = ind.flags(v)
    assert out[["year", "indicator", "flag"]].values.tolist() == [[2022, "epidemic_teams", "missing"],
                                                                  [2023, "new_members", "missing"]]


def test_flags_decline_beyond_the_threshold_from_a_base_of_at_least_min_base():
    v = tidy(("甲镇", 2022, "new_members", 10), ("甲镇", 2023, "new_members", 7),    # -30%: flagged
             ("乙镇", 2022, "new_members", 20), ("乙镇", 2023, "new_members", 16),   # -20%: not beyond 20%
             ("丙镇", 2022, "new_members", 4), ("丙镇", 2023, "new_members", 0),     # -100% from 4 < min_base 5
             ("甲镇", 2022, "weak_org_villages", 10), ("甲镇", 2023, "weak_org_villages", 1))  # neutral
    assert_frame_equal(ind.flags(v), flags_frame(
        ("甲镇", 2023, "new_members", "decline", "high", 7.0, 10.0, -0.3, "发展党员比上年下降30%")))
    looser = ind.flags(v, drop_threshold=0.1, min_base=4)
    assert looser[["town", "ratio"]].values.tolist() == [["丙镇", -1.0], ["乙镇", -0.2], ["甲镇", -0.3]]


def test_flags_decline_compares_with_the_previous_year_present():
    v = tidy(("甲镇", 2021, "new_members", 10), ("甲镇", 2022, "new_members", None), ("甲镇", 2023, "new_members", 6))
    out = ind.flags(v)
    assert out[["year", "flag"]].values.tolist() == [[2022, "missing"], [2023, "decline"]]
    assert out["reference"].tolist()[1] == 10.0 and out["ratio"].tolist()[1] == pytest.approx(-0.4)


def test_flags_target_missed_only_where_a_target_exists_and_is_not_met():
    v = tidy(("甲镇", 2023, "new_members", 9), ("乙镇", 2023, "new_members", 10), ("丙镇", 2023, "new_members", 6),
             ("丁镇", 2023, "new_members", None, "na"))
    t = targets(("甲镇", 2023, "new_members", 12), ("乙镇", 2023, "new_members", 10),
                ("丁镇", 2023, "new_members", 5))  # 丙镇 has no target; 丁镇 has no value
    assert_frame_equal(ind.flags(v, targets=t), flags_frame(
        ("甲镇", 2023, "new_members", "target_missed", "high", 9.0, 12.0, 0.75, "发展党员未完成年度目标（完成75%）")))


def test_flags_outliers_by_median_and_mad_with_the_unfavourable_side_low():
    # high: 10 11 12 100 → median 11.5, |dev| 1.5 .5 .5 88.5 → MAD 1.0, z(100) = 0.6745 × 88.5
    # low:   0 11 12 12  → median 11.5, |dev| 11.5 .5 .5 .5 → MAD 0.5, z(0) = 0.6745 × -11.5 / 0.5
    v = tidy(("甲镇", 2023, "theme_party_days", 10), ("乙镇", 2023, "theme_party_days", 11),
             ("丙镇", 2023, "theme_party_days", 12), ("丁镇", 2023, "theme_party_days", 100),
             ("甲镇", 2023, "new_members", 0), ("乙镇", 2023, "new_members", 11),
             ("丙镇", 2023, "new_members", 12), ("丁镇", 2023, "new_members", 12))
    assert_frame_equal(ind.flags(v), flags_frame(
        ("丁镇", 2023, "theme_party_days", "outlier_high", "low", 100.0, 11.5, 0.6745 * 88.5, "主题党日活动明显高于全县多数乡镇"),
        ("甲镇", 2023, "new_members", "outlier_low", "medium", 0.0, 11.5, 0.6745 * -11.5 / 0.5, "发展党员明显低于全县多数乡镇"),
    ))


def test_flags_outlier_needs_a_nonzero_mad_and_a_z_beyond_outlier_z():
    same = tidy(*[(t, 2023, "new_members", x) for t, x in zip(["甲镇", "乙镇", "丙镇", "丁镇"], [10, 10, 10, 50])])
    assert ind.flags(same).empty  # MAD 0: no robust spread, no outlier
    mild = tidy(*[(t, 2023, "new_members", x) for t, x in zip(["甲镇", "乙镇", "丙镇", "丁镇"], [10, 11, 12, 14])])
    assert ind.flags(mild).empty  # z(14) = 0.6745 × 2.5 / 1.0 ≈ 1.69
    assert ind.flags(mild, outlier_z=1.5)[["town", "flag"]].values.tolist() == [["丁镇", "outlier_high"]]


def test_flags_outliers_compare_size_scaled_values_when_a_profile_is_given():
    # raw 8 10 21 200: 200 is far out; per village 8/4 = 2, 10/5 = 2, 21/10 = 2.1, 200/100 = 2: just a big town
    v = tidy(("甲镇", 2023, "theme_party_days", 8), ("乙镇", 2023, "theme_party_days", 10),
             ("丙镇", 2023, "theme_party_days", 21), ("丁镇", 2023, "theme_party_days", 200))
    prof = profile(甲镇=(4, 80, 8000, 5), 乙镇=(5, 100, 10000, 6), 丙镇=(10, 200, 20000, 12), 丁镇=(100, 2000, 2e5, 120))
    assert ind.flags(v)["flag"].tolist() == ["outlier_high"]
    assert ind.flags(v, profile=prof).empty


def test_flags_approx_value():
    v = tidy(("甲镇", 2023, "theme_party_days", 30, "present", True), ("乙镇", 2023, "theme_party_days", 31))
    assert_frame_equal(ind.flags(v), flags_frame(
        ("甲镇", 2023, "theme_party_days", "approx", "low", 30.0, nan, nan, "主题党日活动仅填报了约数")))


def test_flags_none_on_clean_data_gives_an_empty_frame_with_the_columns():
    v = tidy(("甲镇", 2022, "new_members", 10), ("甲镇", 2023, "new_members", 11),
             ("乙镇", 2022, "new_members", 9), ("乙镇", 2023, "new_members", 9),
             ("乙镇", 2023, "epidemic_teams", None, "na"))
    t = targets(("甲镇", 2023, "new_members", 11))
    out = ind.flags(v, targets=t, profile=PROF)
    assert out.empty and list(out.columns) == FLAG_COLS
    assert out["year"].dtype == "int64"


def test_flags_are_sorted_by_town_year_and_severity():
    v = tidy(("甲镇", 2022, "new_members", 10), ("甲镇", 2023, "new_members", 6, "present", True),
             ("甲镇", 2023, "theme_party_days", None))
    assert ind.flags(v)[["flag", "severity"]].values.tolist() == [
        ["decline", "high"], ["missing", "medium"], ["approx", "low"]]


# --------------------------------------------------------------------------------------------- purity
def _calls():
    return {
        "town_year": lambda v, p, t: ind.town_year(v, "甲镇", 2023),
        "town_table": lambda v, p, t: ind.town_table(v, 2023, labels=True),
        "year_table": lambda v, p, t: ind.year_table(v, "甲镇"),
        "trend": lambda v, p, t: ind.trend(v, "乙镇"),
        "yoy": lambda v, p, t: ind.yoy(v),
        "cagr": lambda v, p, t: ind.cagr(v),
        "best_year": lambda v, p, t: ind.best_year(v),
        "target_completion": lambda v, p, t: ind.target_completion(v, t),
        "per_capita": lambda v, p, t: ind.per_capita(v, p),
        "coverage": lambda v, p, t: ind.coverage(v, p),
        "county_compare": lambda v, p, t: ind.county_compare(v),
        "scaled_values": lambda v, p, t: ind.scaled_values(v, p),
        "composite_score": lambda v, p, t: ind.composite_score(v, p),
        "flags": lambda v, p, t: ind.flags(v, targets=t, profile=p),
        "up_to": lambda v, p, t: ind.up_to(v, 2023),
        "percentile_points": lambda v, p, t: ind.percentile_points(v["value"], [v["year"], v["indicator"]]),
    }


def test_every_public_function_is_covered_by_the_purity_check():
    assert set(_calls()) == set(ind.__all__)


@pytest.mark.parametrize("name", sorted(_calls()))
def test_no_function_mutates_its_inputs(name):
    v = tidy(("甲镇", 2022, "new_members", 10), ("甲镇", 2023, "new_members", 6, "present", True),
             ("乙镇", 2022, "new_members", 8), ("乙镇", 2023, "new_members", None),
             ("甲镇", 2023, "yijiantiao_villages", 8), ("乙镇", 2023, "epidemic_teams", None, "na"))
    t = targets(("甲镇", 2023, "new_members", 12))
    before = (copy.deepcopy(v), copy.deepcopy(PROF), copy.deepcopy(t))
    out = _calls()[name](v, PROF, t)
    assert out is not v
    assert_frame_equal(v, before[0])
    assert_frame_equal(PROF, before[1])
    assert_frame_equal(t, before[2])


def test_functions_chain_with_pipe():
    v = tidy(("甲镇", 2022, "new_members", 10), ("甲镇", 2023, "new_members", 6),
             ("乙镇", 2022, "new_members", 8), ("乙镇", 2023, "new_members", 9))
    chained = v.pipe(ind.yoy).pipe(ind.county_compare, 2023)
    assert_frame_equal(chained, ind.county_compare(ind.yoy(v), 2023))
    assert chained[["town", "change", "rank"]].values.tolist() == [["甲镇", -4.0, 2], ["乙镇", 1.0, 1]]
    assert_frame_equal(v.pipe(ind.town_table, 2023), ind.town_table(v, 2023))
    assert_frame_equal(v.pipe(ind.flags, min_base=100), ind.flags(v, min_base=100))


def test_docstring_examples_run_and_every_public_function_has_one():
    for name in ind.__all__:
        assert ">>>" in (getattr(ind, name).__doc__ or ""), name
    result = doctest.testmod(ind, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 10


def test_percentile_points_by_hand_with_ties_and_a_lone_member():
    key = pd.Series([10.0, 30.0, 20.0, 20.0, 5.0], index=list("abcde"))
    group = pd.Series(["x", "x", "x", "x", "y"], index=key.index)
    # in x: ranks 1, 4, 2.5, 2.5 of n=4 -> (r-1)/3*100; y has one member -> 50
    expected = pd.Series([0.0, 100.0, 50.0, 50.0, 50.0], index=key.index)
    pd.testing.assert_series_equal(ind.percentile_points(key, [group]), expected)


def test_outlier_must_agree_with_the_raw_median_it_is_shown_with():
    # 甲镇 is big (40 党支部): per branch it is far below the others, but its raw value is above the median.
    towns = ["甲镇", "乙镇", "丙镇", "丁镇", "戊镇"]
    v = pd.DataFrame({"town": towns, "year": [2024] * 5, "indicator": ["theme_party_days"] * 5,
                      "value": [60.0, 50.0, 52.0, 48.0, 51.0], "status": ["present"] * 5})
    prof = pd.DataFrame({"villages": [30.0, 8.0, 8.0, 8.0, 8.0], "party_branches": [40.0, 10.0, 10.0, 10.0, 10.0],
                         "party_members": [400.0] * 5, "population": [2e4] * 5}, index=pd.Index(towns, name="town"))
    scaled = ind.scaled_values(v, prof).set_index("town")["scaled"]
    assert scaled["甲镇"] == 1.5 and scaled["乙镇"] == 5.0  # far below per branch ...
    f = ind.flags(v, profile=prof)
    assert f[f["flag"].str.startswith("outlier")].empty  # ... yet not reported as "below the median of 51"


def test_no_outlier_when_the_median_is_below_min_base():
    towns = ["甲镇", "乙镇", "丙镇", "丁镇", "戊镇"]
    v = pd.DataFrame({"town": towns, "year": [2024] * 5, "indicator": ["new_parks"] * 5,
                      "value": [0.0, 10.0, 11.0, 12.0, 13.0], "status": ["present"] * 5})
    # median 11, MAD 1: 甲镇's z = 0.6745 × (0 − 11) / 1 = −7.4, an outlier unless the median is too small
    assert ind.flags(v, min_base=20)["flag"].tolist() == []
    f = ind.flags(v, min_base=5)
    assert f[["town", "flag", "value", "reference"]].values.tolist() == [["甲镇", "outlier_low", 0.0, 11.0]]


def test_up_to_keeps_the_year_and_earlier_and_rejects_an_unknown_year():
    v = pd.DataFrame({"town": ["甲镇"] * 3, "year": [2022, 2023, 2024], "indicator": ["new_members"] * 3,
                      "value": [8.0, 10.0, 12.0]})
    pd.testing.assert_frame_equal(ind.up_to(v, 2023), v.iloc[:2])
    with pytest.raises(UnknownNameError, match="年度"):
        ind.up_to(v, 2025)
