"""RFC 3161 timestamp tokens over the ledger head (dsr_analysis/timestamps.py), against a
REAL local TSA: OpenSSL's ``openssl ts -reply`` with its own test CA (root + TSA certificate
with the critical extended key usage timeStamping), served over HTTP from a thread, or
answering request files. No mock."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from dsr_analysis.cli import main
from dsr_analysis.draw.ledger import entries, head
from dsr_analysis.timestamps import (TimestampError, check_token, covering_text_zh,
                                     demo_timestamp, head_imprint, local_tsa, make_test_ca,
                                     store_response, stored, timestamp_ledger,
                                     timestamp_request, tsa_reply, verify_timestamps)

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


@pytest.fixture(scope="module")
def bureau(bureau_quarter, tmp_path_factory):
    from bureau import copy_bureau_quarter

    return copy_bureau_quarter(bureau_quarter, tmp_path_factory.mktemp("stamped"))


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with local_tsa(tmp_path_factory.mktemp("tsa")) as (url, root):
        yield url, root


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A second TSA with its own root: not in the bureau's trust store."""
    d = tmp_path_factory.mktemp("other")
    return d, make_test_ca(d, name="Other")


@pytest.fixture(scope="module")
def stamped(bureau, tsa):
    url, root = tsa
    assert main(["timestamp", "--ledger", str(bureau.ledger), "--tsa", url,
                 "--tsa-trust", str(root)]) == 0
    return bureau


def test_a_token_over_the_head_is_stored_and_verified(stamped, tsa, capsys):
    _url, root = tsa
    (ts, _data), = stored(stamped.ledger)
    assert ts.head == head(stamped.ledger) and ts.tsa == "DSR Test TSA"
    problems, notes = verify_timestamps(stamped.ledger, root)
    assert problems == []
    assert notes == [f"head {ts.head} existed by {ts.gen_time} (RFC 3161 timestamp by "
                     "DSR Test TSA)"]


def test_dsr_verify_reports_the_time_each_head_existed_by(stamped, tsa, capsys):
    _url, root = tsa
    assert main(["verify", "--ledger", str(stamped.ledger), "--outputs", str(stamped.outputs),
                 "--no-replay", "--tsa-trust", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"head {head(stamped.ledger)} existed by" in out


def test_without_a_trust_store_verify_says_the_signature_was_not_checked(stamped, monkeypatch):
    monkeypatch.delenv("DSR_TSA_TRUST", raising=False)
    problems, notes = verify_timestamps(stamped.ledger)
    assert problems == [] and "signature not checked" in notes[0]
    assert "no TSA trust store" in notes[-1]


def test_request_and_response_files_for_a_tsa_reached_by_another_tool(bureau, tsa, tmp_path,
                                                                      capsys):
    _url, root = tsa
    request, reply = tmp_path / "head.tsq", tmp_path / "head.tsr"
    assert main(["timestamp", "--ledger", str(bureau.ledger), "--request", str(request)]) == 0
    tsa_dir = root.parent
    reply.write_bytes(tsa_reply(tsa_dir, request.read_bytes()))  # `openssl ts -reply`
    before = len(stored(bureau.ledger))
    assert main(["timestamp", "--ledger", str(bureau.ledger), "--response", str(reply),
                 "--tsa-trust", str(root)]) == 0
    assert len(stored(bureau.ledger)) == before + 1
    assert "timestamped at" in capsys.readouterr().out


def test_a_token_over_another_head_is_refused(bureau, tsa):
    _url, root = tsa
    other = "1:" + "ab" * 32
    data = tsa_reply(root.parent, timestamp_request(other))
    with pytest.raises(TimestampError, match="no head of the ledger"):
        store_response(bureau.ledger, data, "reply.tsr", root)
    with pytest.raises(TimestampError, match="not over the head"):
        check_token(data, head(bureau.ledger), [], "reply.tsr")


def test_a_tampered_token_is_refused(bureau, tsa):
    _url, root = tsa
    data = bytearray(tsa_reply(root.parent, timestamp_request(head(bureau.ledger))))
    data[-3] ^= 0x01  # inside the TSA's signature, at the end of the reply
    with pytest.raises(TimestampError):
        store_response(bureau.ledger, bytes(data), "tampered.tsr", root)


def test_an_untrusted_tsa_is_refused(bureau, tsa, other_ca):
    _url, root = tsa
    other_dir, other_root = other_ca
    data = tsa_reply(other_dir, timestamp_request(head(bureau.ledger)))
    with pytest.raises(TimestampError, match="untrusted or forged"):
        store_response(bureau.ledger, data, "other.tsr", root)
    # the other TSA's own root accepts it: the refusal is the trust store's
    assert check_token(data, head(bureau.ledger), [_load(other_root)], "other.tsr")


def _load(path):
    from cryptography import x509

    return x509.load_pem_x509_certificate(path.read_bytes())


def test_verify_refuses_a_stored_token_changed_or_checked_against_another_root(
        stamped, tsa, other_ca, tmp_path):
    _url, root = tsa
    problems, _notes = verify_timestamps(stamped.ledger, other_ca[1])
    assert problems and all("untrusted or forged" in p for p in problems)
    copy = tmp_path / "ledger.sqlite"
    shutil.copy(stamped.ledger, copy)
    first = entries(copy)[0]
    with sqlite3.connect(copy) as con:
        con.execute("DELETE FROM timestamps WHERE id > 1")
        # a second row: the good token filed under another head of the ledger
        con.execute("INSERT INTO timestamps (id, head, gen_time, tsa, token, added_at) "
                    "SELECT 2, ?, gen_time, tsa, token, added_at FROM timestamps WHERE id = 1",
                    (f"{first.seq}:{first.entry_hash}",))
        token = bytearray(con.execute("SELECT token FROM timestamps WHERE id = 1").fetchone()[0])
        token[-3] ^= 0x01
        con.execute("UPDATE timestamps SET token = ? WHERE id = 1", (bytes(token),))
    problems, _notes = verify_timestamps(copy, root)
    assert len(problems) == 2
    assert problems[0].startswith("timestamp #1") and "not over the head" in problems[1]


def test_a_ledger_without_tokens_verifies_as_before(bureau_quarter):
    assert verify_timestamps(bureau_quarter.ledger) == ([], [])


def test_the_announcement_and_the_plan_line_print_the_tokens_time(stamped, tsa):
    from dsr_analysis.draw import export_announcements
    from dsr_analysis.policy import load_policy

    text = covering_text_zh(stamped.ledger, 1)
    assert text.startswith("该条登记已取得可信时间戳：账本前") and "（北京时间）前已存在" in text
    public = stamped.outputs / "draws" / "2023Q1" / "xiongxian" / "public"
    for page in public.glob("announcement-1.*"):
        page.unlink()
    export_announcements(stamped.ledger, stamped.outputs, load_policy())
    assert text in (public / "announcement-1.html").read_text(encoding="utf-8")


def test_the_demo_step_starts_a_tsa_stamps_the_head_and_stops_it(bureau_quarter, tmp_path):
    from bureau import copy_bureau_quarter

    copy = copy_bureau_quarter(bureau_quarter, tmp_path)
    lines = demo_timestamp(copy.ledger, tmp_path / "tsa")
    assert len(lines) == 1 and head(copy.ledger) in lines[0]
    assert verify_timestamps(copy.ledger, tmp_path / "tsa" / "ca.pem")[0] == []
    assert head_imprint(head(copy.ledger)) != head_imprint("0:" + "0" * 64)
    with pytest.raises(TimestampError, match="one of --tsa"):
        timestamp_ledger(copy.ledger)


def test_the_tokens_are_published_and_openssl_alone_verifies_them(stamped, tsa, tmp_path):
    import json
    import subprocess

    _url, root = tsa
    folder = stamped.outputs / "ledger-public" / "timestamps"
    listing = json.loads((folder / "timestamps.json").read_text(encoding="utf-8"))
    first = listing["tokens"][0]
    assert first["file"] == "token-1.tsr" and first["head"] == stored(stamped.ledger)[0][0].head
    head_file = tmp_path / "head.txt"
    head_file.write_bytes(first["head"].encode())  # N:HASH, no newline
    done = subprocess.run(["openssl", "ts", "-verify", "-data", str(head_file), "-in",
                           str(folder / first["file"]), "-CAfile", str(root)],
                          capture_output=True, text=True)
    assert "Verification: OK" in done.stdout, done.stderr
    head_file.write_bytes(b"1:" + b"0" * 64)
    done = subprocess.run(["openssl", "ts", "-verify", "-data", str(head_file), "-in",
                           str(folder / first["file"]), "-CAfile", str(root)],
                          capture_output=True, text=True)
    assert "Verification: OK" not in done.stdout


def test_dsr_export_publishes_the_tokens_again(stamped):
    from dsr_analysis.policy import load_policy
    from dsr_analysis.workflows import rebuild_ledger_files

    folder = stamped.outputs / "ledger-public" / "timestamps"
    shutil.rmtree(folder)
    _recovered, written = rebuild_ledger_files(stamped.ledger, stamped.outputs, load_policy())
    assert folder / "token-1.tsr" in written and (folder / "timestamps.json").is_file()
