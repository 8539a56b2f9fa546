"""Units as data: a hierarchy of units (province → city → county) and its jurisdictions.

A policy may name its units by a hierarchy instead of listing them (the optional
``hierarchy`` section, :class:`dsr_analysis.policy.Hierarchy`): a unit table (``id, name,
level, parent`` and an optional ``authority``; the synthetic national table of
:func:`dsr_analysis.sample.national_units`, or a CSV file) and, per level, whom its units
draw from:

``all``
    every object under the unit - the upper drawing level (the policy's quota rules of
    level ``area``; at most one such level);
``own``
    the objects registered to the unit itself (the quota rules of level ``county``);
``none``
    the level plans and compares; it does not draw.

The hierarchy is expanded into **jurisdictions**: each unit of the ``all`` level with the
``own``-level units under it (and the unit itself, which supervises its own objects, as the
new-area level does), and each ``own``-level unit that no ``all``-level unit is above (a
county directly under its province) alone. A jurisdiction is an ordinary policy - the same
rules with its units listed (the upper unit first), loaded as strictly as any - so the
draw, the quotas and both simulation engines run on it unchanged. Jurisdictions draw
independently of one another (no object is in two of them), which is what lets a national
run be split by jurisdiction (:mod:`dsr_analysis.simulation.national`).

The order of the unit table is the canonical order: jurisdictions in the order of their
upper units, units within one in table order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from .errors import PolicyError, Problem, RegisterError
from .i18n import _
from .documents.layout import write_atomically
from .policy import Hierarchy, Policy, Unit, check_policy, dump_policy
from .sample import national_units

#: Columns of a unit table (``authority`` optional).
UNIT_COLUMNS = ("id", "name", "level", "parent", "authority")


@dataclass(frozen=True)
class Jurisdiction:
    """One upper drawing unit with the units under it, as a policy of its own.

    Attributes
    ----------
    id, name : str
        The upper unit's id and name (a lone county's own).
    top : str
        Id of the unit at the top of the hierarchy above it (its province).
    units : tuple of str
        The drawing units in policy order: the upper unit first, then the ``own``-level
        units under it in table order.
    policy : Policy
        The hierarchy's policy with these units listed and no hierarchy.
    """

    id: str
    name: str
    top: str
    units: tuple[str, ...]
    policy: Policy


def load_units(policy: Policy) -> pd.DataFrame:
    """The unit table of ``policy``'s hierarchy, checked (every problem listed, one line
    each, as :class:`~dsr_analysis.errors.PolicyError`), restricted to ``within``.

    Columns :data:`UNIT_COLUMNS` (extra columns of a CSV file are kept)."""
    h = _hierarchy(policy)
    if h.source.strip() == "synthetic":
        table = national_units(h.seed)
        source = "synthetic national units"
    else:
        path = Path(h.source)
        if not path.is_absolute() and policy.path:
            path = Path(policy.path).parent / path
        source = str(path)
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except OSError as exc:
            raise PolicyError(_("{file}: key 'hierarchy.source': cannot read {path} "
                                "({reason})").format(file=policy.path, path=path,
                                                     reason=exc.strerror)) from None
        missing = [c for c in UNIT_COLUMNS[:4] if c not in table.columns]
        if missing:
            raise PolicyError(_("{file}: missing column(s) {missing} (a unit table has "
                                "{columns}; authority optional)").format(
                                    file=source, missing=", ".join(missing),
                                    columns=", ".join(UNIT_COLUMNS)))
        if "authority" not in table.columns:
            table["authority"] = ""
        table = table.apply(lambda col: col.str.strip())
    check_units(table, h, source)
    if h.within:
        if h.within not in set(table["id"]):
            raise PolicyError(_("{file}: key 'hierarchy.within': unknown unit {unit} "
                                "({source})").format(file=policy.path, unit=repr(h.within),
                                                     source=source))
        table = table[subtree_mask(table, h.within)]
    return table.reset_index(drop=True)


def _hierarchy(policy: Policy) -> Hierarchy:
    if policy.hierarchy is None:
        raise PolicyError(_("{file}: the policy lists its units (no hierarchy section)").format(
            file=policy.path))
    return policy.hierarchy


def check_units(table: pd.DataFrame, hierarchy: Hierarchy, source: str) -> None:
    """Every problem of a unit table: blank or duplicate ids, unknown levels, a parent that
    is unknown or not above the unit, a top-level unit with a parent. Rows are numbered as
    a spreadsheet shows them (header = row 1)."""
    rank = {lv.level: i for i, lv in enumerate(hierarchy.levels)}
    problems = []
    ids = table["id"].astype(str).tolist()
    seen: set[str] = set()
    level_of = dict(zip(ids, table["level"].astype(str), strict=True))
    for row, (uid, level, parent) in enumerate(zip(ids, table["level"].astype(str),
                                                   table["parent"].astype(str),
                                                   strict=True), start=2):
        if not uid:
            problems.append(f"{source}:{row}:id: " + _("blank unit id"))
        elif uid in seen:
            problems.append(f"{source}:{row}:id: "
                            + _("duplicate unit id {unit}").format(unit=repr(uid)))
        seen.add(uid)
        if level not in rank:
            problems.append(f"{source}:{row}:level: "
                            + _("unknown level {level} (the hierarchy's levels: "
                                "{levels})").format(level=repr(level), levels=", ".join(rank)))
            continue
        if not parent:
            if rank[level] != 0:
                problems.append(f"{source}:{row}:parent: "
                                + _("unit {unit} of level {level} needs a parent").format(
                                    unit=repr(uid), level=repr(level)))
        elif parent not in level_of:
            problems.append(f"{source}:{row}:parent: "
                            + _("unknown unit {unit}").format(unit=repr(parent)))
        elif rank.get(level_of[parent], len(rank)) >= rank[level]:
            problems.append(f"{source}:{row}:parent: "
                            + _("{parent} ({parent_level}) is not above {unit} "
                                "({level})").format(parent=repr(parent),
                                                    parent_level=level_of[parent],
                                                    unit=repr(uid), level=level))
    if problems:
        raise PolicyError("\n".join(problems))


def subtree_mask(table: pd.DataFrame, root: str) -> np.ndarray:
    """Bool per row: the unit is ``root`` or under it."""
    return np.array([root in chain for chain in _ancestors(table)], dtype=bool)


def _ancestors(table: pd.DataFrame) -> list[tuple[str, ...]]:
    """Per row, the unit's id and its ancestors' ids, nearest first."""
    parent = dict(zip(table["id"], table["parent"], strict=True))
    out = []
    for uid in table["id"]:
        chain = [uid]
        while parent.get(chain[-1]):
            chain.append(parent[chain[-1]])
        out.append(tuple(chain))
    return out


def jurisdictions(policy: Policy, units: pd.DataFrame | None = None) -> list[Jurisdiction]:
    """The hierarchy's jurisdictions in canonical order (see the module docstring), each
    with its policy: ``policy`` with the units listed and no hierarchy, checked as the
    loader checks a policy."""
    h = _hierarchy(policy)
    table = load_units(policy) if units is None else units
    draws = {lv.level: lv.draws_from for lv in h.levels}
    chains = _ancestors(table)
    level = dict(zip(table["id"], table["level"], strict=True))
    rows = {uid: r for uid, r in zip(table["id"], table.itertuples(index=False), strict=True)}
    upper: dict[str, list[str]] = {}
    lone: list[str] = []
    order: list[str] = []
    for uid, chain in zip(table["id"], chains, strict=True):
        kind = draws[level[uid]]
        if kind == "all":
            upper.setdefault(uid, [])
            order.append(uid)
        elif kind == "own":
            above = [a for a in chain[1:] if draws[level[a]] == "all"]
            if above:
                upper.setdefault(above[0], []).append(uid)
            else:
                lone.append(uid)
                order.append(uid)
    out = []
    for jid in order:
        members = [jid] if jid in lone else [jid, *upper[jid]]
        units_ = tuple(_unit(rows[u], "county" if draws[level[u]] == "own" else "area",
                             h.rule) for u in members)
        jp = dataclasses.replace(policy, units=units_, hierarchy=None)
        check_policy(jp, f"{policy.path} (jurisdiction {jid})")
        out.append(Jurisdiction(id=jid, name=str(rows[jid].name), top=_top(jid, rows),
                                units=tuple(u.id for u in units_), policy=jp))
    return out


def _top(uid: str, rows: dict) -> str:
    while getattr(rows[uid], "parent", ""):
        uid = rows[uid].parent
    return uid


def _unit(row, level: str, rule: str) -> Unit:
    return Unit(id=str(row.id), name=str(row.name), level=level,
                draws_from="all" if level == "area" else "own", rule=rule,
                authority=str(getattr(row, "authority", "") or ""))


def jurisdiction_of(juris: list[Jurisdiction]) -> dict[str, str]:
    """Unit id -> id of its jurisdiction."""
    return {u: j.id for j in juris for u in j.units}


def split_register(frame: pd.DataFrame, juris: list[Jurisdiction], name: str = "enterprises"
                   ) -> dict[str, pd.DataFrame]:
    """Rows of a register (enterprises or inspectors) per jurisdiction, in canonical order.

    A row whose unit is not a drawing unit of the hierarchy (a unit of a ``none`` level,
    or not in the table) is a :class:`~dsr_analysis.errors.RegisterError` listing every
    such row (``file:row:unit: …``); nothing is dropped silently."""
    of = jurisdiction_of(juris)
    key = frame["unit"].map(of)
    bad = np.flatnonzero(key.isna().to_numpy())
    if len(bad):  # every such row, numbered as a spreadsheet shows it (header = row 1)
        units = frame["unit"].to_numpy()
        raise RegisterError([Problem(name, int(i) + 2, "unit",
                                     _("unit {unit} is not a drawing unit of the hierarchy "
                                       "(a unit of a level that does not draw, or not in the "
                                       "unit table)").format(unit=repr(units[i])))
                                     for i in bad])
    codes = pd.Categorical(key, categories=[j.id for j in juris])
    order = np.argsort(codes.codes, kind="stable")
    bounds = np.searchsorted(codes.codes[order], np.arange(len(juris) + 1))
    return {j.id: frame.iloc[order[bounds[i]:bounds[i + 1]]]
            for i, j in enumerate(juris)}


def write_policy(j: Jurisdiction, directory: str | Path) -> Path:
    """Write a jurisdiction's policy as a policy file of its own, ``{directory}/{id}.yaml``
    (its units listed, no hierarchy), for the official draw: a draw and its replay name a
    policy file by its bytes, and this file is the jurisdiction's plan. Returns the path;
    :func:`dsr_analysis.policy.load_policy` reads it back equal to ``j.policy``."""
    path = Path(directory) / f"{j.id}.yaml"
    text = dump_policy(j.policy, f"{j.policy.name}: jurisdiction {j.id} ({j.name}), written by "
                       "dsr_analysis.hierarchy.write_policy")
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def hierarchy_table(policy: Policy, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit of the table: ``id, name, level, parent, draws_from, jurisdiction``
    (empty for a ``none`` level) and ``engine_level`` (``area``/``county``/empty)."""
    h = _hierarchy(policy)
    table = load_units(policy) if units is None else units
    draws = {lv.level: lv.draws_from for lv in h.levels}
    of = jurisdiction_of(jurisdictions(policy, table))
    out = table[["id", "name", "level", "parent"]].copy()
    out["draws_from"] = out["level"].map(draws)
    out["engine_level"] = out["draws_from"].map({"all": "area", "own": "county", "none": ""})
    out["jurisdiction"] = out["id"].map(of).fillna("")
    return out
