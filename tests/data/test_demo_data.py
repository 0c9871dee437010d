"""Tests for the demo data generators."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl

from pacte.data.demo_data import (
    CONTRACT_TYPES,
    DEPARTEMENTS,
    NAF_SECTIONS,
    REGIONS,
    SALARY_BANDS,
    SIZE_BANDS,
    generate_hiring_declarations,
    generate_jobseeker_cohort,
    luhn_check_digit,
    main,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nomenclatures() -> None:
    assert len(REGIONS) == 18
    assert len(DEPARTEMENTS) == 101
    assert {r for _, r in DEPARTEMENTS.values()} == set(REGIONS)
    assert DEPARTEMENTS["2A"] == ("Corse-du-Sud", "94")
    assert DEPARTEMENTS["976"][1] == "06"
    assert list(NAF_SECTIONS) == [chr(c) for c in range(ord("A"), ord("U") + 1)]


def test_reproducible_and_chunked(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    a = generate_hiring_declarations(
        250_000, 7, tmp_path / "a.parquet", lambda d, t: calls.append((d, t)), chunk_rows=100_000
    )
    b = generate_hiring_declarations(250_000, 7, tmp_path / "b.parquet", chunk_rows=100_000)
    c = generate_hiring_declarations(250_000, 8, tmp_path / "c.parquet", chunk_rows=100_000)
    assert _sha(a) == _sha(b) != _sha(c)
    assert calls == [(100_000, 250_000), (200_000, 250_000), (250_000, 250_000)]
    df = pl.read_parquet(a)
    assert df.height == 250_000


def test_hiring_marginals(tmp_path: Path) -> None:
    df = pl.read_parquet(generate_hiring_declarations(200_000, 3, tmp_path / "h.parquet"))
    # region always consistent with the département
    expected = df["departement"].replace_strict({c: r for c, (_, r) in DEPARTEMENTS.items()})
    assert (expected == df["region"]).all()
    assert set(df["naf_sector"].unique()) <= set(NAF_SECTIONS)
    assert set(df["size_band"].unique()) <= set(SIZE_BANDS)
    assert set(df["salary_band"].unique()) <= set(SALARY_BANDS)
    assert set(df["contract_type"].unique()) == set(CONTRACT_TYPES)
    shares = df["contract_type"].value_counts(normalize=True)
    share = dict(zip(shares["contract_type"], shares["proportion"], strict=True))
    assert share["CDD"] + share["MIS"] > 0.75
    assert 0.08 < share["CDI"] < 0.25
    assert (
        df.filter(pl.col("contract_type") == "CDI")["contract_days"].null_count()
        == df.filter(pl.col("contract_type") == "CDI").height
    )
    assert df["contract_days"].drop_nulls().min() >= 1  # type: ignore[operator]
    assert df["age"].min() >= 16 and df["age"].max() <= 70  # type: ignore[operator]
    assert 28 < df["age"].mean() < 40  # type: ignore[operator]
    assert df["monthly_salary_eur"].min() >= 0 and df["monthly_salary_eur"].max() <= 20_000  # type: ignore[operator]
    assert 1300 < df["monthly_salary_eur"].median() < 2500  # type: ignore[operator]
    assert 0.4 < (df["sex"] == "F").mean() < 0.55  # type: ignore[operator]
    assert df["hire_date"].dt.year().unique().to_list() == [2024]
    idf = (df["region"] == "11").mean()
    assert 0.12 < idf < 0.25  # type: ignore[operator]
    # SIRET: 14 digits, Luhn-valid; skewed establishment sizes
    siret = df["establishment_id"]
    assert (siret.str.len_chars() == 14).all()
    sample = np.array(siret.head(1000).cast(pl.Int64).to_list(), dtype=np.int64)
    assert (luhn_check_digit(sample // 10, 13) == sample % 10).all()
    per_est = df.group_by("establishment_id").len()["len"]
    assert per_est.max() > 50 * per_est.median()  # type: ignore[operator]


def test_jobseeker_cohort_rates(tmp_path: Path) -> None:
    calls: list[int] = []
    path = generate_jobseeker_cohort(
        400_000, 11, tmp_path / "j.parquet", lambda d, t: calls.append(d), chunk_rows=150_000
    )
    assert calls == [150_000, 300_000, 400_000]
    df = pl.read_parquet(path)
    rates = df.group_by("treated").agg(
        pl.col("back_to_work_6m").mean(), pl.col("back_to_work_3m").mean()
    )
    r = dict(zip(rates["treated"], rates["back_to_work_6m"], strict=True))
    assert abs(r[0] - 0.1999) < 0.005 and abs(r[1] - 0.221) < 0.005
    assert (df["back_to_work_3m"] <= df["back_to_work_6m"]).all()
    expected = df["departement"].replace_strict({c: r for c, (_, r) in DEPARTEMENTS.items()})
    assert (expected == df["region"]).all()
    assert df["person_id"].n_unique() == df.height
    null = pl.read_parquet(
        generate_jobseeker_cohort(100_000, 11, tmp_path / "n.parquet", effect_6m=0.0)
    )
    rates0 = null.group_by("treated").agg(pl.col("back_to_work_6m").mean())
    assert abs(rates0["back_to_work_6m"][0] - rates0["back_to_work_6m"][1]) < 0.01


def test_cli(tmp_path: Path) -> None:
    assert main(["--rows", "5000", "--out", str(tmp_path), "--chunk-rows", "2000"]) == 0
    assert (tmp_path / "hiring_5000_seed2024.parquet").exists()
