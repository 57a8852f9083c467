"""County computations are made once per county and year, and never served stale."""

from __future__ import annotations

import pandas as pd

import zhidang_analysis as zd
from zhidang_analysis.analysis import memo
from zhidang_analysis.report import narrative


def test_a_county_table_is_computed_once_and_copied_out():
    ds = zd.load_dataset()
    memo.clear()
    calls = []
    real = narrative.county_context.uncached

    def counting(d, year):
        calls.append(year)
        return real(d, year)

    wrapped = memo.per_county(counting)
    a = wrapped(ds, 2025)
    b = wrapped(zd.load_dataset(), 2025)  # another object with the same tables: the same key
    assert calls == [2025]
    pd.testing.assert_frame_equal(a, b)
    a.loc[:, "rank"] = -1  # what a caller does with its copy does not reach the cache
    assert (wrapped(ds, 2025)["rank"] >= 1).all() and calls == [2025]
    wrapped(ds, 2024)
    assert calls == [2025, 2024]


def test_a_changed_dataset_is_computed_afresh():
    ds = zd.load_dataset()
    before = narrative.county_context(ds, 2025)
    changed = ds.copy()
    v = changed.values
    hit = (v["town"] == "河湾镇") & (v["year"] == 2025) & (v["indicator"] == "new_members")
    v.loc[hit, "value"] = 500.0
    after = narrative.county_context(changed, 2025)
    row = after[(after["town"] == "河湾镇") & (after["indicator"] == "new_members")]
    assert row["value"].iloc[0] == 500.0 and row["rank"].iloc[0] == 1
    assert not before.equals(after)


def test_reports_are_the_same_with_and_without_the_cache():
    ds = zd.load_dataset()
    memo.clear()
    first = narrative.town_report(ds, "青石镇", 2025).html
    again = narrative.town_report(ds, "青石镇", 2025).html  # from the cache
    memo.clear()
    assert first == again == narrative.town_report(ds, "青石镇", 2025).html


def test_a_county_catalog_of_its_own_is_not_served_the_packaged_results(tmp_path):
    import yaml

    from importlib import resources

    from zhidang_analysis.model.catalog import load_catalog

    ds = zd.load_dataset()
    packaged = narrative.county_context(ds, 2025)
    text = resources.files("zhidang_analysis").joinpath("data", "catalog.yaml").read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    for ind in spec["indicators"]:
        if ind["code"] == "theme_party_days":
            ind["polarity"] = -1  # fewer is better in this county
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    own = ds.copy()
    own.catalog = load_catalog(tmp_path / "catalog.yaml")
    reversed_ = narrative.county_context(own, 2025)

    def rank(frame):
        return frame.query("indicator == 'theme_party_days'").set_index("town")["rank"]

    top = rank(packaged).idxmin()
    assert rank(reversed_)[top] == rank(reversed_).max()


def test_one_report_takes_its_datasets_fingerprint_once(monkeypatch):
    """A report reads the county's tables six times and never changes its dataset: inside ``memo.pinned`` the
    fingerprint is taken once; after the block a dataset changed in place is computed afresh again."""
    ds = zd.load_dataset().copy()  # (changed in place below: not the loader's own)
    narrative.town_report(ds, "城关镇", 2025)
    real, taken = memo.fingerprint, []
    monkeypatch.setattr(memo, "fingerprint", lambda d: taken.append(id(d)) or real(d))
    narrative.town_report(ds, "青石镇", 2025)
    assert taken == [id(ds)]
    taken.clear()
    with memo.pinned(ds):
        a = narrative.county_context(ds, 2025)
        narrative.county_context(ds, 2024)
    assert taken == [id(ds)]
    v = ds.values
    with memo.pinned(ds):
        v.loc[(v["town"] == "河湾镇") & (v["year"] == 2025) & (v["indicator"] == "new_members"), "value"] = 500.0
        with memo.pinned(ds):  # a block inside another reads its own fingerprint, taken after the change
            inner = narrative.county_context(ds, 2025)
    assert inner.query("town == '河湾镇' and indicator == 'new_members'")["rank"].iloc[0] == 1
    taken.clear()
    b = narrative.county_context(ds, 2025)  # outside the blocks: the change is seen
    assert not a.equals(b) and len(taken) == 1
    assert b.query("town == '河湾镇' and indicator == 'new_members'")["rank"].iloc[0] == 1
