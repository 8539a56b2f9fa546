"""``dsr import-draws``: another bureau's published draws into this ledger."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .draw.imports import import_draws
from .draw.ledger import DEFAULT_LEDGER, head


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
    print(f"已核验 {pub.chain_path}（公布的账本头 {pub.head}）：")
    for line in pub.checks:
        print(f"  - {line}")
    if not result.imported:
        print(f"无新的抽取记录：该账本头之前的 {len(result.present)} 次抽取已导入 {args.ledger}，"
              "本次未写入任何内容")
        return 0
    print(imported_table(result).to_string(index=False))
    if result.present:
        print(f"此前已导入的 {len(result.present)} 次抽取未重复导入")
    print(f"已导入 {len(result.imported)} 次抽取；账本 {args.ledger} 的账本头 {head(args.ledger)}")
    print("此后的承诺和抽取以导入的抽取记录为历史（层级间回避/合并），并在承诺中记录来源账本头")
    return 0


def register(sub) -> None:
    p = sub.add_parser("import-draws", help="import another bureau's published draws (its "
                                            "public chain, checked against its published "
                                            "head) into this ledger")
    p.add_argument("--from", dest="source", required=True,
                   help="the other bureau's published folder (its outputs folder, or its "
                        "ledger-public folder)")
    p.add_argument("--head", required=True,
                   help="the other bureau's published ledger head N:HASH (from its notice or "
                        "announcement)")
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help="this bureau's ledger "
                                                                 "(default %(default)s)")
    p.set_defaults(func=cmd_import_draws)
