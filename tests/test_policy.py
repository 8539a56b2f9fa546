"""Policy as data: the strict loader and the three shipped rule sets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dsr_analysis.errors import PolicyError
from dsr_analysis.paths import DEFAULT_POLICY, POLICIES_DIR
from dsr_analysis.policy import list_policies, load_policy, policy_to_dict


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))


def test_shipped_policies_load():
    ids = {load_policy(p).id for p in list_policies()}
    assert {"xiongan-2023", "chizhou-2019", "guangzhou"} <= ids


def test_xiongan_numbers_come_from_the_plan():
    p = load_policy()
    rules = {(r.level, r.category, r.subset): r for r in p.quotas.rules}
    assert rules[("area", "key", "all")].ratio == 0.10
    assert rules[("area", "special", "all")].ratio == 0.10
    assert rules[("county", "key", "all")].ratio == 0.25
    assert rules[("county", "special", "all")].ratio == 0.50
    assert rules[("county", "general", "positive_list")].method == "offsite_full"
    assert rules[("county", "general", "not_positive_list")].ratio == 0.03
    assert p.credit_risk.min_share == 0.80
    assert p.joint.internal_min_share == 0.30
    assert p.joint.inter_departmental_per_quarter == 1
    assert p.reporting.summary_working_days_before_quarter_end == 3
    assert p.reporting.statistics_working_days_after_quarter_end == 3
    assert p.categories.precedence.index("key") == 2  # R2 conflict rule
    assert all(r.rule for r in p.quotas.rules) and all(c.rule for c in p.categories.conditions)


def test_policy_hash_is_of_the_file_bytes():
    import hashlib

    assert load_policy().sha256 == hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest()


def test_bare_name_is_looked_up():
    assert load_policy("chizhou-2019").path == str(POLICIES_DIR / "chizhou-2019.yaml")


def test_unknown_key(tmp_path, raw):
    raw["joint"]["internal_min_shar"] = 0.3
    path = _write(tmp_path, raw)
    with pytest.raises(PolicyError, match=re.escape(f"{path}: unknown key 'joint.internal_min_shar'")):
        load_policy(path)


def test_missing_key(tmp_path, raw):
    del raw["credit_risk"]["min_share"]
    path = _write(tmp_path, raw)
    with pytest.raises(PolicyError, match=re.escape(f"{path}: missing key 'credit_risk.min_share'")):
        load_policy(path)


def test_out_of_range(tmp_path, raw):
    raw["joint"]["internal_min_share"] = 1.3
    path = _write(tmp_path, raw)
    with pytest.raises(PolicyError, match=re.escape(
            f"{path}: key 'joint.internal_min_share': 1.3 is out of range [0.0, 1.0]")):
        load_policy(path)


def test_share_above_one_in_a_quota_rule(tmp_path, raw):
    raw["quotas"]["rules"][2]["ratio"] = 2.5
    path = _write(tmp_path, raw)
    with pytest.raises(PolicyError, match=re.escape("key 'quotas.rules[2].ratio'")):
        load_policy(path)


def test_wrong_enumeration(tmp_path, raw):
    raw["draw"]["overlap"] = "sometimes"
    path = _write(tmp_path, raw)
    with pytest.raises(PolicyError, match=re.escape(
            "key 'draw.overlap': 'sometimes' is not one of independent, rotation, yearly_cap")):
        load_policy(path)


def test_wrong_type(tmp_path, raw):
    raw["staffing"]["min_inspectors_per_task"] = "two"
    path = _write(tmp_path, raw)
    with pytest.raises(PolicyError, match=re.escape(
            "key 'staffing.min_inspectors_per_task': expected a number, got 'two'")):
        load_policy(path)


def test_fewer_than_two_inspectors_is_out_of_range(tmp_path, raw):
    raw["staffing"]["min_inspectors_per_task"] = 1
    with pytest.raises(PolicyError, match="staffing.min_inspectors_per_task"):
        load_policy(_write(tmp_path, raw))


def test_condition_on_unknown_column(tmp_path, raw):
    raw["categories"]["conditions"][0]["field"] = "penalized"
    with pytest.raises(PolicyError, match=re.escape(
            "key 'categories.conditions[0].field': unknown enterprise column 'penalized'")):
        load_policy(_write(tmp_path, raw))


def test_missing_credit_weight(tmp_path, raw):
    del raw["credit_risk"]["weights"]["D"]
    with pytest.raises(PolicyError, match="credit_risk.weights"):
        load_policy(_write(tmp_path, raw))


def test_overlapping_quota_rules(tmp_path, raw):
    raw["quotas"]["rules"].append(dict(raw["quotas"]["rules"][0], id="again"))
    with pytest.raises(PolicyError, match=r"quotas.rules\[6\]': overlaps another rule"):
        load_policy(_write(tmp_path, raw))


def test_missing_file():
    with pytest.raises(PolicyError, match="nowhere.yaml: cannot read policy file"):
        load_policy("nowhere.yaml")


def test_round_trip_through_dict(tmp_path):
    p = load_policy()
    path = _write(tmp_path, policy_to_dict(p))
    again = load_policy(path)
    assert policy_to_dict(again) == policy_to_dict(p)


def test_per_class_ratios_and_scope_load_from_yaml_and_zero_weights_are_refused(tmp_path):
    from dsr_analysis.paths import DEFAULT_POLICY

    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    ratios = text.replace("  min_share: 0.80", "  ratios: {A: 0.05, B: 0.20, C: 0.30, D: 0.30}\n"
                          "  ratios_per: quarter\n  min_share: 0.80")
    path = tmp_path / "hejian.yaml"
    path.write_text(ratios, encoding="utf-8")
    pol = load_policy(path)
    assert pol.credit_risk.ratios == {"A": 0.05, "B": 0.20, "C": 0.30, "D": 0.30}
    assert pol.draw.overlap_scope == "unit"
    path.write_text(text.replace("overlap_scope: unit", "overlap_scope: all_levels"),
                    encoding="utf-8")
    assert load_policy(path).draw.overlap_scope == "all_levels"
    path.write_text(text.replace("weights: {A: 0.5,", "weights: {A: 0,"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"credit_risk\.weights\.A': 0.0 must be above 0 "
                                          r"\(a class with no weight could never be drawn\)"):
        load_policy(path)
    path.write_text(text.replace("weights: {A: 0.5,", "weights: {A: .nan,"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"credit_risk\.weights\.A': nan is not a number"):
        load_policy(path)
    path.write_text(text.replace("  min_share: 0.80", "  min_share: 0.80\n  min_share: 0.5"),
                    encoding="utf-8")
    with pytest.raises(PolicyError, match="duplicate key 'min_share'"):
        load_policy(path)
