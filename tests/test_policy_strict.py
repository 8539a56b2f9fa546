"""The strict policy loader (issue 12): NaN and infinities, duplicate keys, conditions typed
against the register columns, no empty policy, bounded YAML (aliases, nesting) and short
one-line messages that name the file and the key. Real files in tmp_path, no mocks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dsr_analysis.config import MAX_DEPTH, MAX_NODES, MAX_SHOWN, read_yaml
from dsr_analysis.errors import ParameterError, PolicyError
from dsr_analysis.paths import DEFAULT_POLICY, PACKAGE_DIR, POLICIES_DIR, PROJECT_ROOT
from dsr_analysis.policy import load_policy, policy_to_dict

TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")
WEIGHTS = "weights: {A: 0.5, B: 1.0, C: 1.5, D: 2.0}"
COMPLAINTS = "field: complaints_last_year, op: ge, value: 3,"
PENALISED = "field: penalised_last_year, op: is_true,"


def _edit(tmp_path: Path, old: str, new: str, name: str = "bad.yaml") -> Path:
    """The Xiong'an policy with ``old`` replaced by ``new`` (which must occur)."""
    assert old in TEXT, old
    path = tmp_path / name
    path.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _refused(path: Path, key: str, message: str) -> str:
    """Load ``path``, expect a PolicyError whose message names the file and ``key``, and
    contains ``message``; return the message."""
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = str(info.value)
    assert f"{path}: key '{key}'" in text, text
    assert message in text, text
    return text


# --------------------------------------------------------------------------------------
# Shipped policies still load, well inside the bounds
# --------------------------------------------------------------------------------------
def _shipped() -> list[Path]:
    dirs = [POLICIES_DIR, PACKAGE_DIR / "data" / "policies", PROJECT_ROOT / "tests" / "data"]
    found = [p for d in dirs if d.exists() for p in sorted(d.rglob("*.yaml"))
             if d != PROJECT_ROOT / "tests" / "data" or p.name == "policy.yaml"]
    assert len(found) >= 3
    return found


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_shipped_policy_loads_and_round_trips(tmp_path, path):
    policy = load_policy(path)
    assert policy.units and policy.quotas.rules
    again = _write(tmp_path, yaml.safe_dump(policy_to_dict(policy), allow_unicode=True))
    assert policy_to_dict(load_policy(again)) == policy_to_dict(policy)


# --------------------------------------------------------------------------------------
# NaN and infinities, wherever a number goes
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("spelling", [".nan", ".NaN", ".NAN"])
def test_nan_credit_weight(tmp_path, spelling):
    # On main a NaN weight passed the range check: 雄县's special quota became 4, not 34.
    path = _edit(tmp_path, WEIGHTS, f"weights: {{A: 0.5, B: 1.0, C: 1.5, D: {spelling}}}")
    _refused(path, "credit_risk.weights.D", "nan is not a number")


def test_nan_quota_ratio(tmp_path):
    path = _edit(tmp_path, "subset: all, basis: share, ratio: 0.25,",
                 "subset: all, basis: share, ratio: .nan,")
    _refused(path, "quotas.rules[2].ratio", "nan is not a number")


@pytest.mark.parametrize(("old", "new", "key"), [
    ("subset: all, basis: share, ratio: 0.25,", "subset: all, basis: share, ratio: .inf,",
     "quotas.rules[2].ratio"),
    ("  min_share: 0.80", "  min_share: -.inf", "credit_risk.min_share"),
    ("internal_min_share: 0.30", "internal_min_share: +.Inf", "joint.internal_min_share"),
    ("internal_min_share: 0.30", "internal_min_share: 1.0e+999", "joint.internal_min_share"),
    ("quotas_met: 30", "quotas_met: .inf", "evaluation.weights.quotas_met"),
    (WEIGHTS, "weights: {A: 0.5, B: .inf, C: 1.5, D: 2.0}", "credit_risk.weights.B"),
    ("yearly_cap: 2", "yearly_cap: .inf", "draw.yearly_cap"),  # a whole-number key
    ("year: 2023", "year: -.inf", "year"),
])
def test_infinity_is_refused(tmp_path, old, new, key):
    _refused(_edit(tmp_path, old, new), key, "inf is not a finite number")


def test_nan_in_a_whole_number_key(tmp_path):
    _refused(_edit(tmp_path, "yearly_cap: 2", "yearly_cap: .nan"), "draw.yearly_cap",
             "nan is not a number")


def test_nan_in_per_class_ratios(tmp_path):
    path = _edit(tmp_path, "  min_share: 0.80",
                 "  ratios: {A: 0.05, B: .nan, C: 0.30, D: 0.30}\n  min_share: 0.80")
    _refused(path, "credit_risk.ratios.B", "nan is not a number")


@pytest.mark.parametrize("text", ["'nan'", '"inf"', "'1.5'"])
def test_text_is_not_coerced_to_a_number(tmp_path, text):
    path = _edit(tmp_path, "  min_share: 0.80", f"  min_share: {text}")
    _refused(path, "credit_risk.min_share", f"expected a number, got '{text[1:-1]}'")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_condition_operand(tmp_path, value):
    path = _edit(tmp_path, COMPLAINTS, f"field: complaints_last_year, op: ge, value: {value},")
    _refused(path, "categories.conditions[4].value",
             "'ge' on column 'complaints_last_year' (whole number) needs a finite number")


# --------------------------------------------------------------------------------------
# Duplicate keys
# --------------------------------------------------------------------------------------
def test_duplicate_key_in_a_section(tmp_path):
    path = _edit(tmp_path, "  min_share: 0.80", "  min_share: 0.80\n  min_share: 0.5")
    _refused(path, "credit_risk.min_share",
             "duplicate key 'min_share' (first at line 50); the last would silently win")


def test_duplicate_key_in_a_flow_mapping(tmp_path):
    path = _edit(tmp_path, WEIGHTS, "weights: {A: 0.5, B: 1.0, C: 1.5, D: 2.0, A: 9.0}")
    _refused(path, "credit_risk.weights.A", "duplicate key 'A'")


def test_duplicate_key_in_a_list_entry(tmp_path):
    path = _edit(tmp_path, "subset: all, basis: share, ratio: 0.25,",
                 "subset: all, basis: share, ratio: 0.25, ratio: 0.5,")
    _refused(path, "quotas.rules[2].ratio", "duplicate key 'ratio'")


def test_duplicate_top_level_section(tmp_path):
    path = _write(tmp_path, TEXT + "\njoint:\n  rule: R5\n")
    _refused(path, "joint", "duplicate key 'joint'")


# --------------------------------------------------------------------------------------
# Conditions typed against the enterprise register's columns (schema.SCHEMAS)
# --------------------------------------------------------------------------------------
def test_is_true_on_a_text_column(tmp_path):
    # On main every firm became general: 'is_true' on the firm's name held for none.
    path = _edit(tmp_path, PENALISED, "field: name, op: is_true,")
    _refused(path, "categories.conditions[0].op",
             "'is_true' does not apply to column 'name' (text); use one of eq, in")


@pytest.mark.parametrize(("field", "kind"), [("complaints_last_year", "whole number"),
                                             ("credit_class", "text"), ("unit", "text")])
def test_is_true_only_on_true_false_columns(tmp_path, field, kind):
    path = _edit(tmp_path, PENALISED, f"field: {field}, op: is_true,")
    _refused(path, "categories.conditions[0].op",
             f"'is_true' does not apply to column '{field}' ({kind})")


def test_ge_with_text(tmp_path):
    path = _edit(tmp_path, COMPLAINTS, "field: complaints_last_year, op: ge, value: three,")
    _refused(path, "categories.conditions[4].value",
             "'ge' on column 'complaints_last_year' (whole number) needs a finite number, "
             "got 'three'")


def test_ge_with_true(tmp_path):
    path = _edit(tmp_path, COMPLAINTS, "field: complaints_last_year, op: ge, value: true,")
    _refused(path, "categories.conditions[4].value", "needs a finite number, got True")


@pytest.mark.parametrize(("field", "kind"), [("name", "text"),
                                             ("penalised_last_year", "true/false")])
def test_ge_only_on_number_columns(tmp_path, field, kind):
    path = _edit(tmp_path, COMPLAINTS, f"field: {field}, op: ge, value: 3,")
    _refused(path, "categories.conditions[4].op",
             f"'ge' does not apply to column '{field}' ({kind})")


def test_eq_fraction_on_a_count(tmp_path):
    path = _edit(tmp_path, COMPLAINTS, "field: complaints_last_year, op: eq, value: 2.5,")
    _refused(path, "categories.conditions[4].value",
             "'eq' on column 'complaints_last_year' (whole number) needs a whole number, got 2.5")


def test_eq_text_on_a_true_false_column(tmp_path):
    path = _edit(tmp_path, PENALISED, "field: penalised_last_year, op: eq, value: 'yes',")
    _refused(path, "categories.conditions[0].value",
             "'eq' on column 'penalised_last_year' (true/false) needs true or false, got 'yes'")


def test_in_with_a_value_the_column_never_holds(tmp_path):
    path = _edit(tmp_path, "field: credit_class, op: in, value: [D],",
                 "field: credit_class, op: in, value: [D, E],")
    _refused(path, "categories.conditions[2].value[1]",
             "'E' is not a value of column 'credit_class' (allowed: A, B, C, D)")


def test_in_with_a_chinese_spelling_instead_of_the_canonical_value(tmp_path):
    path = _edit(tmp_path, "field: permit_class, op: in, value: [key],",
                 "field: permit_class, op: in, value: [重点管理],")
    _refused(path, "categories.conditions[7].value[0]",
             "'重点管理' is not a value of column 'permit_class' (allowed: key, simplified, "
             "registration)")


def test_in_with_a_number_on_an_enumeration(tmp_path):
    path = _edit(tmp_path, "field: credit_class, op: in, value: [D],",
                 "field: credit_class, op: in, value: [4],")
    _refused(path, "categories.conditions[2].value[0]",
             "'in' on column 'credit_class' (text) needs text, got 4")


def test_eq_with_an_unknown_unit(tmp_path):
    path = _edit(tmp_path, PENALISED, "field: unit, op: eq, value: nowhere,")
    _refused(path, "categories.conditions[0].value", "'nowhere' is not a value of column 'unit'")


@pytest.mark.parametrize(("value", "shown"), [("D", "'D'"), ("[]", "()")])
def test_in_needs_a_non_empty_list(tmp_path, value, shown):
    path = _edit(tmp_path, "field: credit_class, op: in, value: [D],",
                 f"field: credit_class, op: in, value: {value},")
    _refused(path, "categories.conditions[2].value", f"'in' needs a non-empty list, got {shown}")


def test_is_true_takes_no_value(tmp_path):
    path = _edit(tmp_path, PENALISED, "field: penalised_last_year, op: is_true, value: 3,")
    _refused(path, "categories.conditions[0].value", "'is_true' takes no value, got 3")


def test_every_bad_condition_is_listed_one_line_each(tmp_path):
    text = TEXT.replace(PENALISED, "field: name, op: is_true,").replace(
        COMPLAINTS, "field: complaints_last_year, op: ge, value: three,")
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}: key 'categories.conditions[")
                                   for line in lines)


# --------------------------------------------------------------------------------------
# A policy that could draw nothing
# --------------------------------------------------------------------------------------
def test_all_zero_credit_weights(tmp_path):
    path = _edit(tmp_path, WEIGHTS, "weights: {A: 0, B: 0, C: 0, D: 0}")
    _refused(path, "credit_risk.weights", "every class is 0 (nothing could ever be drawn)")


def test_all_zero_evaluation_weights(tmp_path):
    raw = yaml.safe_load(TEXT)
    raw["evaluation"]["weights"] = {k: 0 for k in raw["evaluation"]["weights"]}
    path = _write(tmp_path, yaml.safe_dump(raw, allow_unicode=True))
    _refused(path, "evaluation.weights", "every weight is 0")


def test_no_quota_rules(tmp_path):
    raw = yaml.safe_load(TEXT)
    raw["quotas"]["rules"] = []
    path = _write(tmp_path, yaml.safe_dump(raw, allow_unicode=True))
    _refused(path, "quotas.rules", "at least one quota rule is needed")


def test_no_units(tmp_path):
    raw = yaml.safe_load(TEXT)
    raw["units"] = []
    path = _write(tmp_path, yaml.safe_dump(raw, allow_unicode=True))
    _refused(path, "units", "at least one drawing unit is needed")


def test_duplicate_unit_id_is_named(tmp_path):
    raw = yaml.safe_load(TEXT)
    raw["units"].append(dict(raw["units"][1]))
    path = _write(tmp_path, yaml.safe_dump(raw, allow_unicode=True))
    _refused(path, "units", f"duplicate unit id '{raw['units'][1]['id']}'")

# --------------------------------------------------------------------------------------
# Bounded YAML: alias expansion and nesting depth
# --------------------------------------------------------------------------------------
def _alias_bomb() -> str:
    """A "billion laughs": nine levels of nine aliases, 9**9 strings once expanded."""
    laugh = '"' + "lol" * 200 + '"'
    lines = [f"a0: &a0 [{', '.join([laugh] * 9)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\nid: *a9\n"


def test_alias_bomb_is_refused_at_the_node_bound(tmp_path):
    text = _alias_bomb()
    assert len(text.encode()) < 7_000  # a few kilobytes that expand to ~10**9 values
    path = _write(tmp_path, text)
    message = _refused(path, "a5[0]", f"more than {MAX_NODES} nodes (YAML aliases expanded)")
    assert "\n" not in message and len(message) < 300


def test_alias_bomb_under_a_policy_key(tmp_path):
    bomb = _alias_bomb().replace("\nid: *a9\n", "\n")
    path = _write(tmp_path, "x-anchors:\n" + "".join(f"  {line}\n" for line in bomb.splitlines())
                  + TEXT.replace("units:", "units: *a9\nunused:", 1))
    with pytest.raises(PolicyError, match=re.escape(f"{path}: key '")) as info:
        load_policy(path)
    assert f"more than {MAX_NODES} nodes (YAML aliases expanded)" in str(info.value)


def test_recursive_alias(tmp_path):
    path = _write(tmp_path, "id: &a [1, *a]\n")
    _refused(path, "id[1]", "alias *a refers to the node that contains it")


def test_ordinary_anchors_and_merge_keys_still_work(tmp_path):
    raw = yaml.safe_load(TEXT)
    rule = raw["quotas"]["rules"][0]
    lines = "".join(f"  {k}: {v}\n" for k, v in rule.items() if k not in ("id", "level"))
    text = TEXT.replace("quotas:", "x-rule: &rule\n" + lines + "quotas:", 1)
    text = text.replace("- {id: area-key, level: area, category: key, subset: all, basis: share, "
                        "ratio: 0.10, per: quarter, method: random, credit_weighted: true, rule: R4}",
                        "- {<<: *rule, id: area-key, level: area}")
    with pytest.raises(PolicyError, match=r"unknown key 'x-rule'"):
        load_policy(_write(tmp_path, text))  # parsed fine; the extra section is refused
    data = read_yaml(text, "anchors.yaml")
    assert data["quotas"]["rules"][0]["ratio"] == 0.10 and data["quotas"]["rules"][0]["id"] == "area-key"


def test_deep_flow_nesting_is_a_clean_error(tmp_path):
    path = _write(tmp_path, "id: " + "[" * 10_000 + "]" * 10_000 + "\n")
    _refused(path, "id", f"nesting deeper than {MAX_DEPTH} levels")


def test_deep_block_nesting_is_a_clean_error(tmp_path):
    path = _write(tmp_path, "id:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(1, 400))
                  + "  " * 400 + "x\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert message.startswith(f"{path}: key 'id[0].k1[0].k2[0].k3")
    assert message.endswith(f"nesting deeper than {MAX_DEPTH} levels")
    key = _shown(message, "key '", "': ")
    assert len(key) <= MAX_SHOWN and key.endswith("…")


def test_bounds_hold_for_other_settings_files_too():
    with pytest.raises(ParameterError, match=r"planner\.yaml: key 'a5\[0\]': .*more than "):
        read_yaml(_alias_bomb(), "planner.yaml", ParameterError)


# --------------------------------------------------------------------------------------
# Short one-line messages
# --------------------------------------------------------------------------------------
def _shown(message: str, before: str, after: str) -> str:
    return message.split(before, 1)[1].split(after, 1)[0]


def test_long_value_is_truncated(tmp_path):
    path = _edit(tmp_path, "overlap: independent", "overlap: " + "x" * 5000)
    message = _refused(path, "draw.overlap", "is not one of independent, rotation, yearly_cap")
    shown = _shown(message, "key 'draw.overlap': ", " is not one of")
    assert len(shown) <= MAX_SHOWN and shown.startswith("'xxx") and shown.endswith("…")


def test_long_structure_is_truncated_without_expanding_it(tmp_path):
    path = _edit(tmp_path, "  rule: R4\n  period: quarter",
                 "  rule: [" + ", ".join(["'" + "y" * 100 + "'"] * 1000) + "]\n  period: quarter")
    message = _refused(path, "quotas.rule", "expected text, got ")
    shown = message.split("expected text, got ", 1)[1]
    assert len(shown) <= MAX_SHOWN and shown.endswith("…")


def test_long_unknown_key_is_truncated(tmp_path):
    path = _edit(tmp_path, "  internal_min_share: 0.30", "  " + "z" * 1000 + ": 1\n"
                 "  internal_min_share: 0.30")
    message = str(pytest.raises(PolicyError, load_policy, path).value)
    assert message.startswith(f"{path}: unknown key 'joint.zzz")
    assert len(_shown(message, "unknown key 'joint.", "'")) <= MAX_SHOWN


def test_long_column_name_is_truncated(tmp_path):
    path = _edit(tmp_path, PENALISED, f"field: {'w' * 2000}, op: is_true,")
    message = _refused(path, "categories.conditions[0].field", "unknown enterprise column 'www")
    assert len(_shown(message, "unknown enterprise column ", " (allowed")) <= MAX_SHOWN


@pytest.mark.parametrize(("text", "key", "message"), [
    ("id: 2023-02-30\n", "id", "cannot read '2023-02-30' (day is out of range for month)"),
    ("year: " + "1" * 5000 + "\n", "year", "cannot read '111"),
    ("id: !!python/name:os.system\n", "id", "not valid YAML: could not determine a constructor"),
    ("id: *nowhere\n", "id", "not valid YAML: found undefined alias 'nowhere'"),
    ("id: [a, b\nname: x\n", "id", "not valid YAML: expected ',' or ']'"),
])
def test_yaml_problems_are_one_line_naming_the_key(tmp_path, text, key, message):
    result = _refused(_write(tmp_path, text), key, message)
    assert "\n" not in result and len(result) < 300


def test_unreadable_characters_are_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: a\x00b\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=re.escape(
            f"{path}: not valid YAML: character 6 (#x0000): special characters are not allowed")):
        load_policy(path)
    path.write_bytes(b"id: \xff\n")
    with pytest.raises(PolicyError, match=re.escape(f"{path}: not valid UTF-8 (byte 5)")):
        load_policy(path)


# --------------------------------------------------------------------------------------
# The command line: exit code 2, one line per problem, no traceback
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["alias bomb", "two bad conditions"])
def test_cli_refuses_a_bad_policy_with_exit_code_2(tmp_path, case):
    if case == "alias bomb":
        path, problems = _write(tmp_path, _alias_bomb()), 1
    else:
        path, problems = _write(tmp_path, TEXT.replace(PENALISED, "field: name, op: is_true,")
                                .replace(COMPLAINTS, "field: town, op: ge, value: 3,")), 2
    dsr = Path(sys.executable).with_name("dsr")
    command = [str(dsr)] if dsr.exists() else [sys.executable, "-m", "dsr_analysis.cli"]
    done = subprocess.run([*command, "validate", "--policy", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == problems, done.stderr
    assert lines[0].startswith(f"error: {path}: key '")
    assert all(line.removeprefix("error: ").startswith(f"{path}: key '") for line in lines)
