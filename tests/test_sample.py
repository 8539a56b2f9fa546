"""The embedded synthetic sample: deterministic, valid and realistic."""

from __future__ import annotations

import pandas as pd
from stdnum.cn import uscc as stdnum_uscc

from dsr_analysis.paths import SAMPLE_REGISTERS
from dsr_analysis.registers import load_registers
from dsr_analysis.sample import CREDIT_SHARES, synthetic_enterprises, write_sample


def test_shipped_sample_is_what_the_generator_writes(tmp_path):
    write_sample(tmp_path)
    for name in ("enterprises", "inspectors", "experts", "items"):
        assert (tmp_path / f"{name}.csv").read_bytes() == \
            (SAMPLE_REGISTERS / f"{name}.csv").read_bytes(), name


def test_every_uscc_valid_and_shares_realistic(policy):
    ent = load_registers(units=policy.unit_names).enterprises
    assert ent["uscc"].map(stdnum_uscc.is_valid).all()
    shares = ent["credit_class"].value_counts(normalize=True)
    for c, s in CREDIT_SHARES.items():
        assert abs(shares[c] - s / sum(CREDIT_SHARES.values())) < 0.03
    assert 0.05 < ent["positive_list"].mean() < 0.15
    assert 0.03 < ent["key_polluter"].mean() < 0.10
    assert not (ent["positive_list"] & ent["penalised_last_year"]).any()


def test_synthetic_register_any_size_is_deterministic():
    a = synthetic_enterprises(50_000, 3)
    b = synthetic_enterprises(50_000, 3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 50_000
    assert not synthetic_enterprises(50_000, 4).equals(a)
