"""A drand round as seed material (dsr_analysis/draw/beacon.py): named in the commitment with
its time known in advance, verified offline against the chain's public key (BLS12-381) at the
draw, combined with lottery numbers, printed on the announcement and checked by ``dsr verify``.

The fixtures are real published values of the League of Entropy mainnet
(tests/fixtures/drand/SOURCES.md names where they come from)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dsr_analysis.cli import main
from dsr_analysis.draw.beacon import (MAINNET, BeaconError, Round, check_record_beacon,
                                      commitment_beacon, load_round, round_time, verify_round)
from dsr_analysis.draw.ledger import entries
from dsr_analysis.draw.protocol import ProtocolError, seed_of_sources
from dsr_analysis.draw.verify import verify_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "drand"
ROUND_FILE = FIXTURES / "round-3311596.json"
ROUND = json.loads(ROUND_FILE.read_text(encoding="utf-8"))
SOURCE = "中国福利彩票双色球第2023108期开奖号码（2023年9月17日开奖）"
NUMBERS = "03 09 12 18 25 31 / 07"


def committed(day=dt.date(2023, 9, 14)) -> dict:
    return commitment_beacon("drand:3311596", day)


def test_the_chain_information_is_the_published_mainnet():
    info = json.loads((FIXTURES / "mainnet-info.json").read_text(encoding="utf-8"))
    assert (info["hash"], info["public_key"], info["period"], info["genesis_time"],
            info["schemeID"]) == (MAINNET.hash, MAINNET.public_key, MAINNET.period,
                                  MAINNET.genesis_time, MAINNET.scheme)


def test_a_rounds_time_is_known_in_advance():
    # 1595431050 + (3311596 - 1) * 30 = 1694778900 = 2023-09-15 11:55:00 UTC
    assert round_time(MAINNET, 3311596) == dt.datetime(2023, 9, 15, 11, 55, tzinfo=dt.UTC)
    assert committed()["time"] == "2023-09-15T11:55:00Z"


def test_a_published_round_verifies_and_its_randomness_is_the_signatures_sha256():
    evidence = verify_round(committed(), load_round(str(ROUND_FILE)))
    assert evidence["randomness"] == ROUND["randomness"]
    assert evidence["round"] == 3311596 and evidence["chain_hash"] == MAINNET.hash
    hexed = load_round(ROUND["signature"], ROUND["previous_signature"])
    assert verify_round(committed(), hexed) == evidence


@pytest.mark.parametrize("change", ["signature", "previous", "round"])
def test_a_wrong_or_forged_round_is_refused(change):
    sig, prev = ROUND["signature"], ROUND["previous_signature"]
    beacon = committed()
    if change == "signature":  # one digit mistyped
        sig = sig[:10] + ("0" if sig[10] != "0" else "1") + sig[11:]
    elif change == "previous":
        prev = prev[:-1] + ("0" if prev[-1] != "0" else "1")
    else:  # the right signature for another round than the committed one
        beacon = commitment_beacon("drand:3311597", dt.date(2023, 9, 14))
    with pytest.raises(BeaconError, match="does not verify"):
        verify_round(beacon, Round(None, sig, prev))


def test_a_round_is_refused_without_what_the_chained_chain_needs(tmp_path):
    with pytest.raises(BeaconError, match="previous_signature"):
        verify_round(committed(), Round(None, ROUND["signature"]))
    with pytest.raises(BeaconError, match="round 3311500"):
        verify_round(committed(), Round(3311500, ROUND["signature"], ROUND["previous_signature"]))
    edited = tmp_path / "round.json"
    edited.write_text(json.dumps({**ROUND, "randomness": "00" * 32}), encoding="utf-8")
    with pytest.raises(BeaconError, match="not SHA-256 of the signature"):
        load_round(str(edited))
    with pytest.raises(BeaconError, match="not hexadecimal"):
        load_round("a696b9zz")


def test_the_round_must_come_after_the_announcements_day():
    # produced 2023-09-15 19:55 Beijing time: an announcement of 15 September is too late
    with pytest.raises(BeaconError, match="not after the announcement's day 2023-09-15"):
        commitment_beacon("drand:3311596", dt.date(2023, 9, 15))
    with pytest.raises(BeaconError, match="unknown drand chain"):
        commitment_beacon("drand:" + "ab" * 32 + ":5", dt.date(2020, 1, 1))
    with pytest.raises(BeaconError, match="drand:ROUND"):
        commitment_beacon("3311596", dt.date(2020, 1, 1))


def test_a_record_whose_round_evidence_was_changed_fails_the_check():
    evidence = verify_round(committed(), load_round(str(ROUND_FILE)))
    commitment = {"seed_source": {"description": "", "form": "text", "beacon": committed()}}
    material = f"drand:{MAINNET.hash}:3311596:{ROUND['randomness']}"
    assert check_record_beacon({"seed_material": material, "beacon": evidence}, commitment) is None
    forged = {**evidence, "randomness": "00" * 32}
    assert "not what its signature gives" in check_record_beacon(
        {"seed_material": material, "beacon": forged}, commitment)
    assert "canonical material" in check_record_beacon(
        {"seed_material": "x; " + material, "beacon": evidence}, commitment)
    assert "names none" in check_record_beacon({"seed_material": material, "beacon": evidence},
                                               {"seed_source": {"description": "s"}})


@pytest.fixture(scope="module")
def combined(bureau_quarter, tmp_path_factory):
    """雄县 commits 2023Q1 on 14 September 2023 with two sources: lottery numbers and drand
    round 3311596; the draw is refused with a forged round, then made with the real one."""
    root = tmp_path_factory.mktemp("beacon")
    ledger, outputs = root / "ledger.sqlite", root / "out"
    base = ["--registers", str(bureau_quarter.registers), "--quarter", "2023Q1", "--units",
            "xiongxian", "--ledger", str(ledger), "--outputs", str(outputs)]
    assert main(["commit", *base, "--seed-source", SOURCE, "--seed-form", "numbers",
                 "--beacon", "drand:3311596", "--date", "2023-09-14"]) == 0
    forged = ROUND["signature"][:-2] + "00"
    refused = main(["draw", *base, "--seed-material", NUMBERS, "--beacon-signature", forged,
                    "--beacon-previous-signature", ROUND["previous_signature"]])
    after_refusal = len(entries(ledger))
    assert main(["draw", *base, "--seed-material", NUMBERS,
                 "--beacon-signature", str(ROUND_FILE)]) == 0
    return ledger, outputs, refused, after_refusal


def test_a_forged_round_draws_nothing(combined, capsys):
    _ledger, _outputs, refused, after_refusal = combined
    assert refused == 2 and after_refusal == 1  # the commitment only


def test_the_seed_material_combines_the_lottery_numbers_and_the_round(combined):
    ledger, _outputs, _r, _n = combined
    record = entries(ledger)[-1].record
    # RFC 3797 form of the numbers, then the round's part (hand-built from the fixture)
    assert record["inputs"]["seed_material"] == (
        f"3.9.12.18.25.31./7./; drand:{MAINNET.hash}:3311596:{ROUND['randomness']}")
    assert record["inputs"]["beacon"]["signature"] == ROUND["signature"]
    assert verify_ledger(ledger) == []


def test_the_announcement_names_both_sources_and_the_rounds_time(combined):
    _ledger, outputs, _r, _n = combined
    page = (outputs / "draws" / "2023Q1" / "xiongxian" / "public" / "announcement-1.html"
            ).read_text(encoding="utf-8")
    assert SOURCE in page and "第3311596轮" in page
    assert "2023年9月15日19时55分00秒（北京时间）" in page and MAINNET.public_key in page


def test_every_committed_source_and_no_other_is_needed(combined):
    ledger, _outputs, _r, _n = combined
    both = entries(ledger)[0].record["seed_source"]
    with pytest.raises(ProtocolError, match="names drand round 3311596"):
        seed_of_sources(both, NUMBERS, None)
    with pytest.raises(ProtocolError, match="give its published value"):
        seed_of_sources(both, None, load_round(str(ROUND_FILE)))
    alone = {"description": "", "form": "text", "beacon": committed()}
    with pytest.raises(ProtocolError, match="--seed-material is not used"):
        seed_of_sources(alone, NUMBERS, load_round(str(ROUND_FILE)))
    material, _evidence = seed_of_sources(alone, None, load_round(str(ROUND_FILE)))
    assert material == f"drand:{MAINNET.hash}:3311596:{ROUND['randomness']}"
    with pytest.raises(ProtocolError, match="commitment names no beacon"):
        seed_of_sources({"description": SOURCE, "form": "numbers"}, NUMBERS,
                        load_round(str(ROUND_FILE)))
