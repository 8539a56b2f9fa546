"""Tables the command line prints or writes for people: Chinese headers, unit names and
category names (the office's terms, from :mod:`dsr_analysis.labels` and the modules' label
tables), or the machine form (canonical column names and ids) with ``--columns ids``.

Every function takes the machine frame a library function returns and gives the frame for
the chosen form; nothing here computes a figure.
"""

from __future__ import annotations

import re

import pandas as pd

from .categories import CATEGORY_ZH
from .draw.record import LEVEL_ZH
from .i18n import N_, _, language
from .labels import YES_NO_ZH
from .policy import CREDIT_CLASSES, Policy
from .quotas import METHOD_ZH, SUBSET_ZH, QuotaCheck

#: The forms of a table: Chinese names for people, ids for programs.
COLUMN_FORMS = ("zh", "ids")

#: Classification columns and their Chinese headers.
CLASSIFY_ZH = {"uscc": "统一社会信用代码", "name": "企业名称", "unit": "抽查单位",
               "category": "监管类别", "category_reason": "分类依据"}

_REASON = re.compile(r"^(?P<cat>\w+): (?P<label>.*?) \((?P<id>[^,()]+), (?P<rule>[^()]+)\)$")
_OVERRIDE = re.compile(r"; overrides (?P<cat>\w+): (?P<label>.*?) \((?P<id>[^,()]+), "
                       r"(?P<rule>[^()]+)\) \[[^\]]*conflict rule\]")


def reason_zh(reason: str) -> str:
    """A classification reason (``key: 列入重点排污单位名录 (key_polluter, R2)``) as the office
    reads it (``重点监管对象：列入重点排污单位名录``), without condition and rule ids; a reason of
    another form is returned as it is."""
    overrides = [m.groupdict() for m in _OVERRIDE.finditer(reason)]
    head = _OVERRIDE.sub("", reason)
    m = _REASON.match(head)
    if m is None:
        return reason
    cat = CATEGORY_ZH.get(m["cat"], m["cat"])
    if m["id"] == "default":
        text = f"{cat}：未符合任何认定条件（默认类别）"
    else:
        text = f"{cat}：{m['label']}"
    for o in overrides:
        text += f"；按冲突规则优先于{CATEGORY_ZH.get(o['cat'], o['cat'])}（{o['label']}）"
    return text


def classification_table(classified: pd.DataFrame, policy: Policy,
                         columns: str = "zh") -> pd.DataFrame:
    """The classified enterprises (``dsr classify``): USCC, name, unit, category, reason."""
    frame = classified[list(CLASSIFY_ZH)].reset_index(drop=True)
    if columns == "ids":
        return frame
    names = policy.unit_names
    out = frame.assign(unit=frame["unit"].map(lambda u: names.get(u, u)),
                       category=frame["category"].map(lambda c: CATEGORY_ZH.get(c, c)),
                       category_reason=frame["category_reason"].map(reason_zh))
    return out.rename(columns=CLASSIFY_ZH)


def _flag_zh(flag: str) -> str:
    m = re.match(r"capped: minimum (\d+) exceeds the population of (\d+)", flag or "")
    if m:
        return f"最低抽查数{m[1]}超过对象数{m[2]}，按对象数抽取"
    return flag or ""


def quota_table(table: pd.DataFrame, columns: str = "zh") -> pd.DataFrame:
    """A quarter's quota table (``dsr quotas``): one row per stratum."""
    if columns == "ids":
        return table
    out = pd.DataFrame({
        "季度": table["quarter"], "抽查单位": table["unit_name"],
        "层级": table["level"].map(lambda v: LEVEL_ZH.get(v, v)),
        "监管类别": table["category"].map(lambda v: CATEGORY_ZH.get(v, v)),
        "范围": table["subset"].map(lambda v: SUBSET_ZH.get(v, v)),
        "方式": table["method"].map(lambda v: METHOD_ZH.get(v, v)),
        "对象数": table["population"], "抽查比例": table["ratio"].round(4),
        "抽查数": table["quota"],
        "结合信用风险分类": table["credit_weighted"].map(lambda v: YES_NO_ZH[bool(v)]),
    })
    for c in CREDIT_CLASSES:
        out[f"{c}类对象数"] = table[f"population_{c}"]
    for c in CREDIT_CLASSES:
        out[f"{c}类抽中概率"] = table[f"probability_{c}"].round(4)
    for c in CREDIT_CLASSES:
        out[f"{c}类预期抽查数"] = table[f"expected_{c}"].round(2)
    out["说明"] = table["flag"].map(_flag_zh)
    return out.reset_index(drop=True)


def quota_check_line(check: QuotaCheck, policy: Policy) -> str:
    """One plan-level check of a quota table as a sentence in the current language (no rule
    id)."""
    verdict = _("met") if check.met else _("NOT MET")
    if check.check.endswith(": yearly draws vs inspectors"):
        unit = check.check.split(":")[0]
        return _("{unit}: draws in the year {value:.0f}, at least {target:.0f} by the number "
                 "of inspectors: {verdict}").format(
            unit=policy.unit_names.get(unit, unit), value=check.value, target=check.target,
            verdict=verdict)
    return _("share of random draws combined with the credit-risk classes: {value:.1%} "
             "(at least {target:.0%}): {verdict}").format(value=check.value,
                                                          target=check.target, verdict=verdict)


#: Headers of the simulation's summary tables.
SIMULATION_ZH = {
    "category": "监管类别", "credit_class": "信用等级", "objects": "对象数",
    "coverage": "年覆盖率", "coverage_p05": "年覆盖率5%分位", "coverage_p95": "年覆盖率95%分位",
    "inspections_per_object": "每个对象年均检查次数", "province": "省份", "top": "省份",
    "violation_rate_last_year": "末年违法率", "hit_rate": "问题发现率",
    "base": "基准", "optimum": "优化结果",
}


def simulation_table(frame: pd.DataFrame, columns: str = "zh") -> pd.DataFrame:
    """A simulation summary (coverage by category and credit class, per province, the
    optimum against the base) with Chinese headers and category names."""
    if columns == "ids":
        return frame
    out = frame.copy()
    if "category" in out:
        out["category"] = out["category"].map(lambda v: CATEGORY_ZH.get(v, v))
    out.index = [CATEGORY_ZH.get(i, i) if isinstance(i, str) else i for i in out.index]
    return out.rename(columns=SIMULATION_ZH)


#: Kinds of ledger entries by the name of their record format.
ENTRY_KINDS = {"dsr-commitment": N_("commitments"), "dsr-draw-record": N_("draw records"),
               "dsr-plan-revision": N_("plan revisions"), "dsr-import": N_("imported draws")}

#: Canonical forms of seed material (``dsr commit --seed-form``).
SEED_FORMS = {"text": N_("text"), "numbers": N_("numbers (RFC 3797)")}


def entry_formats(formats: dict[str, int]) -> str:
    """The entries of a ledger by kind (``dsr verify``): the record formats with their
    versions in English (what a replay script is chosen by), the kinds in Chinese."""
    if language() == "en":
        return ", ".join(f"{k}: {v}" for k, v in sorted(formats.items()))
    kinds: dict[str, int] = {}
    for name, count in sorted(formats.items()):
        kind = ENTRY_KINDS.get(name.split("/")[0])
        label = _(kind) if kind else name
        kinds[label] = kinds.get(label, 0) + count
    return "，".join(f"{label} {count} 条" for label, count in kinds.items())
