"""``dsr import-draws``: another bureau's published draws into this ledger."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .cli import add_ledger
from .draw.imports import import_draws
from .draw.ledger import head
from .i18n import _


def imported_table(result) -> pd.DataFrame:
    """The imported draws, one row each, with Chinese headers."""
    rows = []
    for e in result.imported:
        rec = e.record
        names = rec["record"].get("inputs", {}).get("unit_names") or {}
        rows.append({"本账本条目": e.seq, "来源单位": rec["source"]["issuer"],
                     "季度": e.quarter, "抽查单位": "、".join(names.get(u, u) for u in e.units),
                     "来源账本条目": rec["entry"]["seq"], "任务数": len(rec["record"]["tasks"])})
    return pd.DataFrame(rows, columns=["本账本条目", "来源单位", "季度", "抽查单位",
                                       "来源账本条目", "任务数"])


def cmd_import_draws(args: argparse.Namespace) -> int:
    result = import_draws(Path(args.ledger), Path(args.source), args.head)
    pub = result.published
    print(_("checked {path} (published ledger head {head}):").format(path=pub.chain_path,
                                                                      head=pub.head))
    for line in pub.checks:
        print(f"  - {line}")
    if not result.imported:
        print(_("no new draws: the {n} draws up to that head are already in {ledger}; "
                "nothing was written").format(n=len(result.present), ledger=args.ledger))
        return 0
    print(imported_table(result).to_string(index=False))
    if result.present:
        print(_("{n} draws imported earlier were not imported again").format(
            n=len(result.present)))
    print(_("imported {n} draws; head of the ledger {ledger}: {head}").format(
        n=len(result.imported), ledger=args.ledger, head=head(args.ledger)))
    print(_("later commitments and draws take the imported draws as history (avoidance and "
            "merging between levels) and record the source ledger head in the commitment"))
    return 0


def import_draws_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="source", required=True,
                   help=_("the other bureau's published folder (its outputs folder, or its "
                        "ledger-public folder)"))
    p.add_argument("--head", required=True,
                   help=_("the other bureau's published ledger head N:HASH (from its notice or "
                        "announcement)"))
    add_ledger(p, help=_("this bureau's ledger (default %(default)s)"))
    p.set_defaults(func=cmd_import_draws)
