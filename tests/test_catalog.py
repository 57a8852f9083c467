"""The indicator catalog covers the seed report, and its entries are well-formed."""

from __future__ import annotations

import math
import re

import pytest
import yaml

import zhidang_analysis as zd
from zhidang_analysis.model.catalog import normalize_header, phrase_years, split_unit
from zhidang_analysis.errors import UnknownNameError

from .conftest import REPO, TEST_DATA

SEED = TEST_DATA / "seed-report.txt"
SEED_MAP = TEST_DATA / "seed_map.yaml"
REFERENCE_SEED = REPO / ".." / "shared" / "reference" / "seed-report.txt"
EPIDEMIC = ["epidemic_teams", "epidemic_members", "disinfection_rounds", "disinfection_households",
            "nat_rounds", "nat_person_times"]


@pytest.fixture(scope="module")
def cat():
    return zd.load_catalog()


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_map() -> dict:
    return yaml.safe_load(SEED_MAP.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------- seed
def test_seed_copy_equals_shared_reference():
    if not REFERENCE_SEED.exists():
        pytest.skip("shared reference seed not available")
    assert SEED.read_bytes() == REFERENCE_SEED.read_bytes()


def test_seed_has_54_lowercase_x_placeholders(seed):
    assert seed.count("x") == 54


def test_every_seed_placeholder_is_mapped_once_to_a_catalog_code(seed, seed_map, cat):
    all_x = {m.start() for m in re.finditer("x", seed)}
    covered: dict[int, str] = {}
    for entry in seed_map["placeholders"]:
        context, code = entry["context"], entry["code"]
        assert context.count("x") == 1, context
        assert seed.count(context) == 1, f"context must occur exactly once: {context}"
        pos = seed.index(context) + context.index("x")
        assert pos not in covered, f"{context} maps the same x as {covered.get(pos)}"
        covered[pos] = code
        assert code in cat, code
    assert len(covered) == 54
    assert set(covered) == all_x
    # one quantity, one code: no code fills two different x
    assert len(set(covered.values())) == 54


def test_seed_literal_numbers_are_catalog_entries(seed, seed_map, cat):
    literals = {e["context"]: e for e in seed_map["literals"]}
    assert [e["code"] for e in seed_map["literals"]] == ["nat_rounds", "good_mothers_in_law", "new_parks",
                                                         "screening_aspects"]
    for short in ("四轮", "5个", "1处", "七个方面"):
        (context,) = [c for c in literals if short in c]
        assert seed.count(context) == 1
        assert literals[context]["code"] in cat
    assert [e["value"] for e in seed_map["literals"]] == [4, 5, 1, 7]
    # the seed writes 四轮 in Chinese numerals: the catalog must say so; its 七个方面x个问题 mixes two forms for counts
    # of one kind, and a report writes both in Arabic numerals (GB/T 15835: 同类别同形式)
    assert cat["nat_rounds"]["numeral"] == "chinese"
    assert cat["screening_aspects"]["numeral"] == "arabic"
    assert cat["good_mothers_in_law"]["numeral"] == "arabic"
    assert cat["new_parks"]["numeral"] == "arabic"


def test_catalog_has_exactly_the_seed_quantities_plus_size_figures(seed_map, cat):
    mapped = [e["code"] for e in seed_map["placeholders"] + seed_map["literals"]]
    assert len(mapped) == 58 == len(set(mapped))
    assert set(cat.codes) - set(mapped) == {"villages", "population", "party_members", "party_branches"}
    assert set(cat.size_codes) == {"villages", "population", "party_members", "party_branches"}


# --------------------------------------------------------------------------------------------- invariants
def test_codes_are_unique_ascii_snake_case(cat):
    assert len(cat.codes) == len(set(cat.codes)) == 62
    for code in cat.codes:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code), code


def test_names_are_unique_after_normalisation(cat):
    names = [normalize_header(n) for n in cat.frame["name"]]
    assert len(names) == len(set(names))


def test_sections_are_the_report_structure(cat):
    assert list(cat.sections) == ["opening", "s1", "s2", "s3", "s4", "s5", "s6", "next", "size"]
    assert set(cat.frame["section"]) <= set(cat.sections)
    assert cat.in_section("s3") == ["supervised_cadres"]
    assert cat.in_section("next") == ["county_congress_ordinal"]
    with pytest.raises(UnknownNameError):
        cat.in_section("s9")


def test_ranges_are_ordered_and_units_present(cat):
    f = cat.frame
    assert (f["min"] <= f["max"]).all()
    assert (f["min"] >= 0).all()
    assert (f["unit"].str.len() > 0).all()
    assert set(f["origin"]) == {"values", "profile"}
    assert set(f["polarity"]) <= {-1, 0, 1}
    assert set(f["numeral"]) <= {"arabic", "chinese"}


def test_money_and_area_are_decimal_counts_are_integer(cat):
    for code in ("summer_veg_area", "income_per_household", "tourists", "tourism_income", "livestock_stock"):
        assert not cat[code]["integer"], code
    for code in ("theme_party_days", "new_members", "five_star_branches", "party_members"):
        assert cat[code]["integer"], code


def test_epidemic_items_apply_only_2020_to_2022(cat):
    for code in EPIDEMIC:
        assert (cat[code]["first_year"], cat[code]["last_year"]) == (2020, 2022), code
        assert [cat.applies(code, y) for y in (2019, 2020, 2021, 2022, 2023, 2025)] == [
            False, True, True, True, False, False]
    epidemic_like = set(cat.frame.index[cat.frame["last_year"] == 2022])
    assert epidemic_like == set(EPIDEMIC)
    assert set(EPIDEMIC) <= set(cat.applicable(2022))
    assert not set(EPIDEMIC) & set(cat.applicable(2023))


def test_practical_deeds_apply_from_2021(cat):
    assert not cat.applies("practical_deeds", 2020)
    assert cat.applies("practical_deeds", 2021)
    assert cat.applies("practical_deeds", 2030)


def test_applicable_counts_per_year(cat):
    # 57 yearly indicators; 6 epidemic ones end in 2022, 2 start in 2021
    assert len(cat.value_codes) == 57
    assert len(cat.applicable(2020)) == 57 - 2
    assert len(cat.applicable(2021)) == 57
    assert len(cat.applicable(2023)) == 57 - 6
    assert cat.applicable(2023, origin="profile") == [
        "county_congress_ordinal", "villages", "population", "party_members", "party_branches"]


def test_unknown_code_raises_with_suggestion(cat):
    with pytest.raises(UnknownNameError) as e:
        cat["new_member"]
    assert e.value.kind == "指标代码"
    assert "new_members" in e.value.suggestions
    assert "未找到指标代码“new_member”" in str(e.value)


def test_label_carries_unit(cat):
    assert cat.label("theme_party_days") == "主题党日活动（次）"
    assert cat.label("livestock_stock") == "牛羊存栏（万头（只））"
    assert cat.name("new_members") == "发展党员"


# --------------------------------------------------------------------------------------------- headers
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("主题党日活动", ("theme_party_days", None)),
        ("主题党日活动（次）", ("theme_party_days", "次")),
        ("主题党日活动(次)", ("theme_party_days", "次")),
        (" 主题党日 活动 （次）", ("theme_party_days", "次")),
        ("theme_party_days", ("theme_party_days", None)),
        ("好媳妇", ("good_daughters_in_law", None)),
        ("“好媳妇”", ("good_daughters_in_law", None)),
        ('"好媳妇"', ("good_daughters_in_law", None)),
        ("“好媳妇”（个）", ("good_daughters_in_law", "个")),
        ("实现一肩挑行政村（个）", ("yijiantiao_villages", "个")),
        ("牛羊存栏（万头（只））", ("livestock_stock", "万头（只）")),
        ("主题党日活动（个）", ("theme_party_days", "个")),
        ("党建活动", (None, None)),
        ("党建活动（次）", (None, "次")),
    ],
)
def test_match_header(cat, header, expected):
    assert cat.match_header(header) == expected


def test_unit_matches_ignores_bracket_width(cat):
    assert cat.unit_matches("theme_party_days", "次")
    assert not cat.unit_matches("theme_party_days", "个")
    assert cat.unit_matches("livestock_stock", "万头(只)")


def test_split_unit():
    assert split_unit("发展党员（名）") == ("发展党员", "名")
    assert split_unit("牛羊存栏(万头(只))") == ("牛羊存栏", "万头(只)")
    assert split_unit("发展党员") == ("发展党员", None)


def test_normalize_header_strips_spaces_quotes_and_width():
    assert normalize_header(" “好媳妇” ") == "好媳妇"
    assert normalize_header("主题党日活动（次）") == "主题党日活动(次)"
    assert normalize_header("ＡＢ　１２") == "AB12"


# --------------------------------------------------------------------------------------------- phrases
def test_year_phrases_cover_2020_to_2026():
    assert set(range(2020, 2027)) <= set(phrase_years())
    for year in range(2020, 2027):
        p = zd.year_phrases(year)
        assert {"congress_spirit", "study_campaign", "election_year", "epidemic"} <= set(p), year
        assert p["congress_spirit"] and p["study_campaign"]
        assert p["epidemic"] is (year <= 2022), year


def test_year_phrases_agree_with_catalog_on_epidemic_years(cat):
    for year in range(2020, 2027):
        assert zd.year_phrases(year)["epidemic"] == cat.applies("epidemic_teams", year)


def test_year_phrases_unknown_year_raises():
    with pytest.raises(UnknownNameError) as e:
        zd.year_phrases(1999)
    assert e.value.name == 1999


def test_year_phrases_returns_a_copy():
    zd.year_phrases(2023)["study_campaign"] = "changed"
    assert zd.year_phrases(2023)["study_campaign"] != "changed"


def test_catalog_is_cached():
    assert zd.load_catalog() is zd.load_catalog()
    assert zd.load_catalog()["theme_party_days"]["max"] == 2000


def test_every_indicator_has_a_finite_max_and_omitted_years_mean_always(cat):
    # every catalog entry sets max, so a defaulted max (inf) would be a typo in catalog.yaml
    assert all(math.isfinite(v) for v in cat.frame["max"])
    assert (cat["theme_party_days"]["first_year"], cat["theme_party_days"]["last_year"]) == (1900, 9999)


def test_lookups_read_each_row_and_header_once_and_say_the_same_as_the_frame():
    """The loader reads a catalog field for every column of every sheet; the plain-dict rows and the headers read
    once per catalog must say exactly what the frame says, and an unknown code still raises."""
    cat = zd.load_catalog()
    for code in cat.codes:
        rec = cat.record(code)
        assert rec is cat.record(code)  # one dict per row
        assert rec["name"] == cat.frame.at[code, "name"] == cat.name(code)
        assert rec["origin"] == cat.frame.at[code, "origin"] and bool(rec["additive"]) == bool(cat.frame.at[code, "additive"])
        header = cat.label(code)
        assert cat.read_header(header) is cat.read_header(header) and cat.read_header(header).code == code
    assert cat.read_header(1) == cat.read_header(1) and cat.read_header(True).code is None
    with pytest.raises(UnknownNameError):
        cat.record("no_such_code")
    with pytest.raises(UnknownNameError):
        cat.name("no_such_code")
