"""The demo year's loop (``dsr demo``'s orchestration) on the embedded sample: every step
leaves what the next one reads, the ledger verifies, and the year's index links only files
that exist (the reports themselves are rendered by ``dsr render``). About
two minutes: ``make test-slow``."""

import re

import pytest

from dsr_analysis.draw.ledger import entries
from dsr_analysis.draw.verify import verify_ledger
from dsr_analysis.registers import load_registers
from dsr_analysis.workflows import DEMO_COMPLAINTS, demo_closing, demo_followups, demo_year

pytestmark = pytest.mark.slow


def test_the_demo_year_closes_its_loop(tmp_path, policy):
    registers = load_registers(None, units=policy.unit_names)
    year = demo_year(policy, registers, tmp_path)
    kinds = [e.draw_key.split(":")[0] for e in entries(year.ledger)]
    assert kinds.count("amendment") == 2  # the plan as published, and its first amendment
    assert year.policies["2023Q2"].path != year.policies["2023Q3"].path
    assert year.reinspections and all(set(r.tasks["origin"]) == {"follow_up"}
                                      for _q, r, _e in year.reinspections)
    assert [q for q, _r, _e in year.complaints] == [DEMO_COMPLAINTS[0]]
    assert verify_ledger(year.ledger) == []
    followups = demo_followups(policy, year, tmp_path)
    closing = demo_closing(policy, year, tmp_path, followups)
    complained = closing.rollover.flags["complaints_last_year"] > 0
    assert int(complained.sum()) == DEMO_COMPLAINTS[3]
    page = closing.index.read_text(encoding="utf-8")
    links = re.findall(r"href='([^']+)'", page)
    assert len(links) > 20 and all((tmp_path / link).is_file() for link in links)
    # only the quarters' report lists are missing: the reports are rendered by `dsr render`
    missing = re.findall(r"<li>([^<：]+) <span class='na'>（尚未生成）", page)
    assert len(missing) == 5 and all("季度" in m or "月公示" in m for m in missing), missing
