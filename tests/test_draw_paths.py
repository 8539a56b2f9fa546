"""The object draw's faster paths give what the published steps define, on small hand-made
inputs: exclusions and rotation rounds by dictionary look-ups, the drawn objects' table
picked by a mask, the skeletons' task list of an object draw built when first used."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dsr_analysis.draw import draw_quarter
from dsr_analysis.draw.objects import object_table, population_columns, stratum_candidates
from dsr_analysis.draw.staffing import inspector_table
from dsr_analysis.overlap import EarlierChecks, OverlapRules, exclusions, rounds_of


def rules(mode="yearly_cap", between="avoid"):
    return OverlapRules(mode=mode, yearly_cap=2, exemptions=frozenset({"complaint"}),
                        scope="unit", between=between)


def test_exclusions_between_levels_then_cap_with_reasons():
    candidates = np.array(["C4", "A1", "B2", "D5", "E6"], dtype=object)
    checks = EarlierChecks(rounds={"A1": 3, "D5": 2, "E6": 1}, counted={"A1": 2, "D5": 2,
                                                                         "E6": 1})
    eligible, excluded = exclusions(
        candidates, level="area", rules=rules(), checks=checks,
        drawn_by_other_level={"C4": "2023Q1-xiongxian-0001", "D5": "2023Q1-anxin-0002"},
        year=2023)
    # C4, D5 drawn by a county (D5 once, not twice); A1 at the cap of 2; B2, E6 eligible.
    assert eligible.tolist() == [False, False, True, False, True]
    assert excluded == [
        ["A1", "yearly_cap: inspected 2 times in 2023 (cap 2)"],
        ["C4", "between_levels: drawn this quarter by 2023Q1-xiongxian-0001"],
        ["D5", "between_levels: drawn this quarter by 2023Q1-anxin-0002"],
    ]
    # A county does not avoid the area level; an exempt origin is not capped.
    eligible, excluded = exclusions(
        candidates, level="county", rules=rules(), checks=checks,
        drawn_by_other_level={"C4": "x"}, year=2023, origin="complaint")
    assert eligible.all() and excluded == []


def test_rounds_by_lookup():
    checks = EarlierChecks(rounds={"A1": 3, "E6": 1}, counted={})
    got = rounds_of(np.array(["A1", "B2", "E6"], dtype=object), rules("rotation"), checks)
    assert got.dtype == np.int64 and got.tolist() == [3, 0, 1]
    assert rounds_of(["A1"], rules("independent"), checks).tolist() == [0]


def population():
    return pd.DataFrame({
        "uscc": ["Z9", "A1", "M5", "B2"],
        "name": ["乙厂", "甲厂", "丙厂", "丁厂"],
        "unit": ["anxin", "xiongxian", "anxin", "xiongxian"],
        "industry": ["食品制造", "畜禽养殖", "家具制造", "服装制造"],
        "offsite_capable": [True, False, False, True],
        "category": ["key", "general", "key", "key"],
        "credit_class": ["A", "B", "C", "D"],
        "positive_list": [False, True, False, False],
    })


def test_object_table_of_the_drawn_objects_in_uscc_order():
    tasks = [{"uscc": "Z9"}, {"uscc": "B2"}, {"uscc": "Z9"}]
    got = object_table(population(), tasks)
    assert list(got) == ["B2", "Z9"]
    assert got["Z9"] == {"name": "乙厂", "unit": "anxin", "industry": "食品制造",
                         "offsite_capable": True}
    assert got["B2"]["offsite_capable"] is True and got["B2"]["name"] == "丁厂"


def test_object_table_refuses_a_repeated_drawn_uscc_as_before():
    pop = pd.concat([population(), population().iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError):
        object_table(pop, [{"uscc": "Z9"}])
    assert list(object_table(pop, [{"uscc": "A1"}])) == ["A1"]  # not drawn: no matter


def test_stratum_candidates_on_fixed_width_columns():
    cols = population_columns(population())
    assert cols["uscc"].tolist() == ["A1", "B2", "M5", "Z9"]
    row = SimpleNamespace(category="key", subset="all")
    own = SimpleNamespace(id="anxin", draws_from="own")
    codes, classes = stratum_candidates(cols, own, row)
    assert codes.tolist() == ["M5", "Z9"] and classes.tolist() == [2, 0]
    area = SimpleNamespace(id="xiongan", draws_from="all")
    codes, _ = stratum_candidates(cols, area, SimpleNamespace(category="key",
                                                             subset="not_positive_list"))
    assert codes.tolist() == ["B2", "M5", "Z9"]


def test_inspector_table_sorted_with_plain_values():
    frame = pd.DataFrame({
        "inspector_id": ["I2", "I1"], "name": ["王五", "李四"], "unit": ["anxin", "anxin"],
        "business_line": ["water", "air"], "certified": [np.True_, True],
        "active": [True, np.False_], "conflicts": [("Z9", "A1"), ()]})
    got = inspector_table(frame)
    assert list(got) == ["I1", "I2"]
    assert got["I2"] == {"name": "王五", "unit": "anxin", "business_line": "water",
                         "certified": True, "active": True, "conflicts": ["A1", "Z9"]}
    assert type(got["I1"]["active"]) is bool and got["I1"]["active"] is False


def test_object_draw_alone_lists_its_skeletons(policy, registers):
    res = draw_quarter(policy, registers, "2023Q1", "paths", staff=False)
    tasks = res.tasks
    assert len(tasks) == len(res.record["tasks"]) > 0
    assert tasks["task_id"].tolist() == [t["task_id"] for t in res.record["tasks"]]


def test_object_digests_are_the_published_tickets():
    import hashlib

    from dsr_analysis.draw.record import object_digests

    codes = ["91130629MA0DXXXX1X", "甲", "", "a\nb", "91130629MA0DXXXX1X"]
    want = [hashlib.sha256(f"seed|xiongan|key/all|{c}".encode()).digest() for c in codes]
    assert object_digests("seed", "xiongan", "key/all", codes) == want
    assert object_digests("seed", "xiongan", "key/all", codes[:3]) == want[:3]
    assert object_digests("seed", "xiongan", "key/all", []) == []
