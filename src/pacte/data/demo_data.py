"""Realistic generated demo data, reproducible from a seed.

Pure module (numpy + pyarrow, no Django). Two datasets:

* :func:`generate_hiring_declarations` — modelled on French pre-hiring declarations (DPAE):
  one row per hire, with a skewed establishment-size distribution, real INSEE département and
  region codes (2016 regions), NAF rév. 2 sections, INSEE *tranches d'effectif* codes.
* :func:`generate_jobseeker_cohort` — a job-seeker cohort with a (randomised by default)
  treatment and return-to-work outcomes calibrated so that the control arm's 6-month rate is
  ``base_rate_6m`` and the treated arm's is ``base_rate_6m + effect_6m`` (e.g. 19.99 % vs
  22.1 %).

Both write Parquet in chunks (one row group per chunk) and are byte-for-byte reproducible
for the same ``(rows, seed, chunk_rows)`` in the same environment: each chunk draws from its
own generator seeded by ``SeedSequence([seed, dataset, chunk_index])``; the establishment and
person pools are drawn once from ``SeedSequence([seed, dataset, POOL])``.

The nomenclatures (:data:`REGIONS`, :data:`DEPARTEMENTS`, :data:`NAF_SECTIONS`,
:data:`CONTRACT_TYPES`, :data:`SIZE_BANDS`, :data:`SALARY_BANDS`, …) and the public clipping
bounds (:data:`CLIPPING_BOUNDS`) are exported for the catalogue: they are public facts, never
derived from the data.

CLI: ``python -m pacte.data.demo_data --rows 10000000 --out bench/data``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "AGE_BANDS",
    "CLIPPING_BOUNDS",
    "CONTRACT_TYPES",
    "DEPARTEMENTS",
    "EDUCATION_LEVELS",
    "HIRING_YEAR",
    "NAF_SECTIONS",
    "REGIONS",
    "SALARY_BANDS",
    "SEXES",
    "SIZE_BANDS",
    "UNEMPLOYMENT_DURATION_BANDS",
    "Progress",
    "generate_hiring_declarations",
    "generate_jobseeker_cohort",
    "luhn_check_digit",
    "main",
]

Progress = Callable[[int, int], None]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DEFAULT_CHUNK_ROWS: Final = 1_000_000
HIRING_YEAR: Final = 2024

# --------------------------------------------------------------------------- nomenclatures

#: The 18 regions (INSEE code → name), as of the 2016 reform.
REGIONS: Final[Mapping[str, str]] = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}

# code: (name, region code, rough population in thousands — used only as a sampling weight)
_DEPARTEMENTS_POP: Final[Sequence[tuple[str, str, str, int]]] = (
    ("01", "Ain", "84", 660),
    ("02", "Aisne", "32", 530),
    ("03", "Allier", "84", 335),
    ("04", "Alpes-de-Haute-Provence", "93", 165),
    ("05", "Hautes-Alpes", "93", 140),
    ("06", "Alpes-Maritimes", "93", 1100),
    ("07", "Ardèche", "84", 330),
    ("08", "Ardennes", "44", 270),
    ("09", "Ariège", "76", 155),
    ("10", "Aube", "44", 310),
    ("11", "Aude", "76", 375),
    ("12", "Aveyron", "76", 280),
    ("13", "Bouches-du-Rhône", "93", 2050),
    ("14", "Calvados", "28", 700),
    ("15", "Cantal", "84", 145),
    ("16", "Charente", "75", 350),
    ("17", "Charente-Maritime", "75", 660),
    ("18", "Cher", "24", 300),
    ("19", "Corrèze", "75", 240),
    ("21", "Côte-d'Or", "27", 535),
    ("22", "Côtes-d'Armor", "53", 605),
    ("23", "Creuse", "75", 115),
    ("24", "Dordogne", "75", 415),
    ("25", "Doubs", "27", 545),
    ("26", "Drôme", "84", 520),
    ("27", "Eure", "28", 600),
    ("28", "Eure-et-Loir", "24", 430),
    ("29", "Finistère", "53", 920),
    ("2A", "Corse-du-Sud", "94", 160),
    ("2B", "Haute-Corse", "94", 185),
    ("30", "Gard", "76", 760),
    ("31", "Haute-Garonne", "76", 1450),
    ("32", "Gers", "76", 190),
    ("33", "Gironde", "75", 1650),
    ("34", "Hérault", "76", 1200),
    ("35", "Ille-et-Vilaine", "53", 1100),
    ("36", "Indre", "24", 215),
    ("37", "Indre-et-Loire", "24", 610),
    ("38", "Isère", "84", 1280),
    ("39", "Jura", "27", 255),
    ("40", "Landes", "75", 420),
    ("41", "Loir-et-Cher", "24", 325),
    ("42", "Loire", "84", 765),
    ("43", "Haute-Loire", "84", 230),
    ("44", "Loire-Atlantique", "52", 1450),
    ("45", "Loiret", "24", 685),
    ("46", "Lot", "76", 175),
    ("47", "Lot-et-Garonne", "75", 330),
    ("48", "Lozère", "76", 77),
    ("49", "Maine-et-Loire", "52", 820),
    ("50", "Manche", "28", 495),
    ("51", "Marne", "44", 565),
    ("52", "Haute-Marne", "44", 170),
    ("53", "Mayenne", "52", 307),
    ("54", "Meurthe-et-Moselle", "44", 730),
    ("55", "Meuse", "44", 182),
    ("56", "Morbihan", "53", 765),
    ("57", "Moselle", "44", 1045),
    ("58", "Nièvre", "27", 200),
    ("59", "Nord", "32", 2600),
    ("60", "Oise", "32", 830),
    ("61", "Orne", "28", 275),
    ("62", "Pas-de-Calais", "32", 1460),
    ("63", "Puy-de-Dôme", "84", 665),
    ("64", "Pyrénées-Atlantiques", "75", 690),
    ("65", "Hautes-Pyrénées", "76", 230),
    ("66", "Pyrénées-Orientales", "76", 480),
    ("67", "Bas-Rhin", "44", 1150),
    ("68", "Haut-Rhin", "44", 770),
    ("69", "Rhône", "84", 1900),
    ("70", "Haute-Saône", "27", 235),
    ("71", "Saône-et-Loire", "27", 550),
    ("72", "Sarthe", "52", 565),
    ("73", "Savoie", "84", 440),
    ("74", "Haute-Savoie", "84", 840),
    ("75", "Paris", "11", 2130),
    ("76", "Seine-Maritime", "28", 1255),
    ("77", "Seine-et-Marne", "11", 1420),
    ("78", "Yvelines", "11", 1450),
    ("79", "Deux-Sèvres", "75", 375),
    ("80", "Somme", "32", 570),
    ("81", "Tarn", "76", 390),
    ("82", "Tarn-et-Garonne", "76", 260),
    ("83", "Var", "93", 1090),
    ("84", "Vaucluse", "93", 560),
    ("85", "Vendée", "52", 690),
    ("86", "Vienne", "75", 440),
    ("87", "Haute-Vienne", "75", 370),
    ("88", "Vosges", "44", 360),
    ("89", "Yonne", "27", 335),
    ("90", "Territoire de Belfort", "27", 140),
    ("91", "Essonne", "11", 1300),
    ("92", "Hauts-de-Seine", "11", 1625),
    ("93", "Seine-Saint-Denis", "11", 1660),
    ("94", "Val-de-Marne", "11", 1400),
    ("95", "Val-d'Oise", "11", 1250),
    ("971", "Guadeloupe", "01", 385),
    ("972", "Martinique", "02", 355),
    ("973", "Guyane", "03", 290),
    ("974", "La Réunion", "04", 870),
    ("976", "Mayotte", "06", 310),
)

#: The 101 départements: INSEE code → (name, region code).
DEPARTEMENTS: Final[Mapping[str, tuple[str, str]]] = {
    code: (name, region) for code, name, region, _ in _DEPARTEMENTS_POP
}

# code: (label, share of establishments %, hires per employee per year, salary multiplier)
_NAF: Final[Sequence[tuple[str, str, float, float, float]]] = (
    ("A", "Agriculture, sylviculture et pêche", 6.0, 2.0, 0.90),
    ("B", "Industries extractives", 0.2, 0.3, 1.30),
    ("C", "Industrie manufacturière", 8.0, 0.4, 1.15),
    (
        "D",
        "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné",
        0.3,
        0.2,
        1.50,
    ),
    (
        "E",
        "Production et distribution d'eau ; assainissement, gestion des déchets et dépollution",
        0.6,
        0.4,
        1.10,
    ),
    ("F", "Construction", 13.0, 0.6, 1.10),
    ("G", "Commerce ; réparation d'automobiles et de motocycles", 21.0, 0.8, 0.95),
    ("H", "Transports et entreposage", 4.0, 0.9, 1.05),
    ("I", "Hébergement et restauration", 10.0, 2.5, 0.85),
    ("J", "Information et communication", 3.0, 0.5, 1.60),
    ("K", "Activités financières et d'assurance", 4.0, 0.3, 1.60),
    ("L", "Activités immobilières", 3.0, 0.4, 1.20),
    ("M", "Activités spécialisées, scientifiques et techniques", 9.0, 0.7, 1.40),
    ("N", "Activités de services administratifs et de soutien", 5.0, 4.0, 0.95),
    ("O", "Administration publique", 1.5, 0.4, 1.10),
    ("P", "Enseignement", 2.0, 1.2, 1.00),
    ("Q", "Santé humaine et action sociale", 6.0, 0.8, 1.00),
    ("R", "Arts, spectacles et activités récréatives", 2.0, 3.0, 0.90),
    ("S", "Autres activités de services", 4.0, 1.0, 0.90),
    ("T", "Activités des ménages en tant qu'employeurs", 1.0, 1.5, 0.70),
    ("U", "Activités extra-territoriales", 0.05, 0.2, 1.50),
)

#: NAF rév. 2 sections A–U: code → label.
NAF_SECTIONS: Final[Mapping[str, str]] = {code: label for code, label, *_ in _NAF}

#: Contract types as declared in the DPAE.
CONTRACT_TYPES: Final[Mapping[str, str]] = {
    "CDI": "Contrat à durée indéterminée",
    "CDD": "Contrat à durée déterminée",
    "MIS": "Mission d'intérim (contrat de travail temporaire)",
}

# code: (label, min headcount, max headcount, share of establishments %)
_SIZE: Final[Sequence[tuple[str, str, int, int, float]]] = (
    ("00", "0 salarié", 0, 0, 10.0),
    ("01", "1 ou 2 salariés", 1, 2, 36.0),
    ("02", "3 à 5 salariés", 3, 5, 18.0),
    ("03", "6 à 9 salariés", 6, 9, 11.0),
    ("11", "10 à 19 salariés", 10, 19, 10.0),
    ("12", "20 à 49 salariés", 20, 49, 8.5),
    ("21", "50 à 99 salariés", 50, 99, 3.3),
    ("22", "100 à 199 salariés", 100, 199, 1.7),
    ("31", "200 à 249 salariés", 200, 249, 0.35),
    ("32", "250 à 499 salariés", 250, 499, 0.6),
    ("41", "500 à 999 salariés", 500, 999, 0.25),
    ("42", "1 000 à 1 999 salariés", 1000, 1999, 0.1),
    ("51", "2 000 à 4 999 salariés", 2000, 4999, 0.04),
    ("52", "5 000 à 9 999 salariés", 5000, 9999, 0.008),
    ("53", "10 000 salariés et plus", 10000, 20000, 0.002),
)

#: INSEE *tranches d'effectif salarié* codes → label.
SIZE_BANDS: Final[Mapping[str, str]] = {code: label for code, label, *_ in _SIZE}

# code: (label, lower bound inclusive in €/month)
_SALARY: Final[Sequence[tuple[str, str, int]]] = (
    ("S1", "moins de 1 500 €", 0),
    ("S2", "1 500 à 1 999 €", 1500),
    ("S3", "2 000 à 2 499 €", 2000),
    ("S4", "2 500 à 2 999 €", 2500),
    ("S5", "3 000 à 3 999 €", 3000),
    ("S6", "4 000 à 5 999 €", 4000),
    ("S7", "6 000 € et plus", 6000),
)

#: Gross monthly salary bands: code → label.
SALARY_BANDS: Final[Mapping[str, str]] = {code: label for code, label, _ in _SALARY}

SEXES: Final[Mapping[str, str]] = {"F": "Femme", "M": "Homme"}

AGE_BANDS: Final[Mapping[str, str]] = {
    "16-24": "16 à 24 ans",
    "25-34": "25 à 34 ans",
    "35-49": "35 à 49 ans",
    "50+": "50 ans et plus",
}

EDUCATION_LEVELS: Final[Mapping[str, str]] = {
    "INFRA_BAC": "Inférieur au baccalauréat",
    "BAC": "Baccalauréat",
    "BAC2": "Bac + 2",
    "BAC3P": "Bac + 3 et plus",
}

UNEMPLOYMENT_DURATION_BANDS: Final[Mapping[str, str]] = {
    "<6m": "moins de 6 mois",
    "6-12m": "6 à 11 mois",
    "12-24m": "12 à 23 mois",
    "24m+": "24 mois et plus",
}

#: Public clipping bounds for measures (public facts, never read from the data).
CLIPPING_BOUNDS: Final[Mapping[str, tuple[int, int]]] = {
    "monthly_salary_eur": (0, 20_000),
    "contract_days": (1, 540),  # a CDD lasts at most 18 months, renewals included
    "age": (16, 70),
}

# --------------------------------------------------------------------------- helpers

_HIRING_STREAM: Final = 1
_COHORT_STREAM: Final = 2
_POOL: Final = 2**31 - 1


def _rng(seed: int, stream: int, index: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, index])))


def _cumulative(weights: Sequence[float] | FloatArray) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    c = np.cumsum(w)
    out: FloatArray = c / c[-1]
    return out


def _sample(rng: np.random.Generator, cumulative: FloatArray, n: int) -> IntArray:
    idx = np.searchsorted(cumulative, rng.random(n), side="right")
    out: IntArray = np.minimum(idx, len(cumulative) - 1).astype(np.int64)
    return out


def luhn_check_digit(numbers: IntArray, digits: int) -> IntArray:
    """Luhn check digit for each ``digits``-digit number (vectorised); SIRET uses Luhn."""
    total = np.zeros(numbers.shape, dtype=np.int64)
    rest = numbers.copy()
    for position in range(digits):  # position 0 = rightmost digit, doubled in Luhn
        d = rest % 10
        rest //= 10
        if position % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    out: IntArray = (10 - total % 10) % 10
    return out


def _zero_padded(values: IntArray, width: int, prefix: str = "") -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")
    if prefix:
        text = pc.binary_join_element_wise(prefix, text, "")
    return text


def _take(labels: Sequence[str], indices: IntArray) -> pa.Array:
    return pa.array(list(labels), type=pa.string()).take(pa.array(indices))


def _chunks(rows: int, chunk_rows: int) -> list[tuple[int, int]]:
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if chunk_rows <= 0:
        raise ValueError("chunk_rows must be > 0")
    return [(start, min(chunk_rows, rows - start)) for start in range(0, rows, chunk_rows)]


def _write(
    out: Path,
    schema: pa.Schema,
    rows: int,
    chunk_rows: int,
    make_chunk: Callable[[int, int, int], pa.Table],
    progress: Progress | None,
) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    done = 0
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for index, (_, size) in enumerate(_chunks(rows, chunk_rows)):
            table = make_chunk(index, done, size)
            writer.write_table(table.cast(schema), row_group_size=size)
            done += size
            if progress is not None:
                progress(done, rows)
    tmp.replace(out)
    return out


# --------------------------------------------------------------------------- hiring (DPAE)

HIRING_SCHEMA: Final = pa.schema(
    [
        ("establishment_id", pa.string()),
        ("departement", pa.string()),
        ("region", pa.string()),
        ("naf_sector", pa.string()),
        ("size_band", pa.string()),
        ("contract_type", pa.string()),
        ("contract_days", pa.int32()),
        ("hire_date", pa.date32()),
        ("salary_band", pa.string()),
        ("monthly_salary_eur", pa.int32()),
        ("person_id", pa.string()),
        ("age", pa.int16()),
        ("sex", pa.string()),
    ]
)

_DEPT_CODES: Final = [d[0] for d in _DEPARTEMENTS_POP]
_DEPT_REGION: Final = [d[2] for d in _DEPARTEMENTS_POP]
_DEPT_CUM: Final = _cumulative([d[3] for d in _DEPARTEMENTS_POP])
_REGION_CODES: Final = sorted(REGIONS)
_DEPT_REGION_INDEX: Final[IntArray] = np.array(
    [_REGION_CODES.index(r) for r in _DEPT_REGION], dtype=np.int64
)
_NAF_CODES: Final = [n[0] for n in _NAF]
_NAF_N: Final = _NAF_CODES.index("N")
_SIZE_CODES: Final = [s[0] for s in _SIZE]
_SALARY_CODES: Final = [s[0] for s in _SALARY]
_SALARY_LOWER: Final[IntArray] = np.array([s[2] for s in _SALARY], dtype=np.int64)


class _HiringPools:
    """Establishments and persons, drawn once per seed (independent of chunking)."""

    def __init__(self, rows: int, seed: int) -> None:
        rng = _rng(seed, _HIRING_STREAM, _POOL)
        n_est = int(min(2_000_000, max(200, rows // 20)))
        size = _sample(rng, _cumulative([s[4] for s in _SIZE]), n_est)
        lo = np.array([s[2] for s in _SIZE], dtype=np.int64)[size]
        hi = np.array([s[3] for s in _SIZE], dtype=np.int64)[size]
        headcount = lo + np.floor(rng.random(n_est) * (hi - lo + 1)).astype(np.int64)
        naf = _sample(rng, _cumulative([n[2] for n in _NAF]), n_est)
        turnover = np.array([n[3] for n in _NAF])[naf]
        # hires per year: an establishment with no employee still hires (its first hire)
        volume = np.maximum(headcount, 0.7) * turnover * rng.lognormal(0.0, 0.6, n_est)
        self.cum = _cumulative(volume)
        dept = _sample(rng, _DEPT_CUM, n_est)
        # SIRET: 9-digit SIREN + 4-digit NIC body + Luhn digit, all distinct (affine bijection)
        body = (np.arange(n_est, dtype=np.int64) * 1_000_000_007 + 12_345_678_901) % (
            9 * 10**12
        ) + 10**12
        siret = body * 10 + luhn_check_digit(body, 13)
        self.establishment_id = _zero_padded(siret, 14)
        self.dept = dept
        self.region = _DEPT_REGION_INDEX[dept]
        self.naf = naf
        self.size = size
        self.salary_mult = np.array([n[4] for n in _NAF])[naf]
        # persons: several hires per person (short CDD chains), fixed birth date and sex
        n_persons = max(100, rows // 3)
        self.person_cum = _cumulative(rng.lognormal(0.0, 1.0, n_persons))
        age_at_start = 16.0 + rng.gamma(2.0, 9.0, n_persons)
        self.birth_day = np.floor((HIRING_YEAR - 1970 - age_at_start) * 365.25).astype(np.int64)
        self.female = rng.random(n_persons) < 0.47
        # person ids: P + 10 digits, an affine bijection of the index mod 10**10
        self.person_number = (np.arange(n_persons, dtype=np.int64) * 7_919_113 + 4_242_424) % (
            10**10
        )
        # hire day weights over the year: weekdays, summer and September peaks
        days = np.arange(366)
        start = np.datetime64(f"{HIRING_YEAR}-01-01")
        dates = start + days.astype("timedelta64[D]")
        weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
        month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        month_weight = np.array([1.0, 0.9, 1.0, 1.0, 1.05, 1.15, 1.35, 1.0, 1.3, 1.1, 1.0, 0.9])
        weight = month_weight[month - 1] * np.where(weekday >= 5, 0.15, 1.0)
        weight = np.where(weekday == 0, weight * 1.4, weight)
        self.day_cum = _cumulative(weight)
        self.year_start_day = int(start.astype("datetime64[D]").astype(np.int64))


def _hiring_chunk(pools: _HiringPools, seed: int, index: int, size: int) -> pa.Table:
    rng = _rng(seed, _HIRING_STREAM, index)
    est = _sample(rng, pools.cum, size)
    naf = pools.naf[est]
    in_temp_agency = naf == _NAF_N
    u = rng.random(size)
    # Temporary-work agencies (NAF N) declare missions; others mostly short CDD.
    contract = np.where(
        in_temp_agency,
        np.where(u < 0.80, 2, np.where(u < 0.95, 1, 0)),
        np.where(u < 0.16, 0, 1),
    )
    days = np.where(
        contract == 1,
        rng.lognormal(np.log(20.0), 1.3, size),
        rng.lognormal(np.log(6.0), 1.1, size),
    )
    lo_days, hi_days = CLIPPING_BOUNDS["contract_days"]
    contract_days = np.clip(np.ceil(days), lo_days, hi_days).astype(np.int32)
    hire_day = _sample(rng, pools.day_cum, size) + pools.year_start_day
    person = _sample(rng, pools.person_cum, size)
    lo_age, hi_age = CLIPPING_BOUNDS["age"]
    age = np.clip((hire_day - pools.birth_day[person]) // 365, lo_age, hi_age)
    female = pools.female[person]
    experience = np.clip(age - 25, 0, 30)
    median = 1900.0 * pools.salary_mult[est] * (1.0 + 0.008 * experience)
    median = median * np.where(female, 0.91, 1.0) * np.where(contract == 0, 1.08, 1.0)
    part_time = rng.random(size) < 0.2
    salary = rng.lognormal(np.log(median), 0.35) * np.where(
        part_time, 0.3 + 0.5 * rng.random(size), 1.0
    )
    lo_sal, hi_sal = CLIPPING_BOUNDS["monthly_salary_eur"]
    salary_eur = np.clip(np.round(salary), lo_sal, hi_sal).astype(np.int64)
    salary_band = np.searchsorted(_SALARY_LOWER, salary_eur, side="right") - 1
    est_arr = pa.array(est)
    return pa.table(
        {
            "establishment_id": pools.establishment_id.take(est_arr),
            "departement": _take(_DEPT_CODES, pools.dept[est]),
            "region": _take(_REGION_CODES, pools.region[est]),
            "naf_sector": _take(_NAF_CODES, naf),
            "size_band": _take(_SIZE_CODES, pools.size[est]),
            "contract_type": _take(list(CONTRACT_TYPES), contract.astype(np.int64)),
            "contract_days": pa.array(contract_days, mask=contract == 0),
            "hire_date": pa.array(hire_day.astype(np.int32), type=pa.int32()).cast(pa.date32()),
            "salary_band": _take(_SALARY_CODES, salary_band.astype(np.int64)),
            "monthly_salary_eur": pa.array(salary_eur.astype(np.int32)),
            "person_id": _zero_padded(pools.person_number[person], 10, prefix="P"),
            "age": pa.array(age.astype(np.int16)),
            "sex": _take(["M", "F"], female.astype(np.int64)),
        }
    )


def generate_hiring_declarations(
    rows: int,
    seed: int,
    out: Path,
    progress: Progress | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Path:
    """Write ``rows`` synthetic DPAE-like hires to the Parquet file ``out``; return ``out``.

    Columns: see :data:`HIRING_SCHEMA`. ``contract_days`` is null for CDI. ``progress`` is
    called as ``progress(rows_done, rows_total)`` after each chunk (one row group per chunk).
    """
    pools = _HiringPools(rows, seed)
    return _write(
        out,
        HIRING_SCHEMA,
        rows,
        chunk_rows,
        lambda index, _start, size: _hiring_chunk(pools, seed, index, size),
        progress,
    )


# --------------------------------------------------------------------------- job seekers

COHORT_SCHEMA: Final = pa.schema(
    [
        ("person_id", pa.string()),
        ("age_band", pa.string()),
        ("sex", pa.string()),
        ("departement", pa.string()),
        ("region", pa.string()),
        ("education_level", pa.string()),
        ("unemployment_duration_band", pa.string()),
        ("benefit_receipt", pa.int8()),
        ("disability", pa.int8()),
        ("in_need", pa.int8()),
        ("treated", pa.int8()),
        ("back_to_work_3m", pa.int8()),
        ("back_to_work_6m", pa.int8()),
    ]
)


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


def _calibrated(logit: FloatArray, target: float) -> FloatArray:
    """Shift ``logit`` by a constant so that the mean probability equals ``target``."""
    if not 0.0 < target < 1.0:
        raise ValueError("rates must lie strictly between 0 and 1")
    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = (lo + hi) / 2.0
        if float(np.mean(_sigmoid(logit + mid))) < target:
            lo = mid
        else:
            hi = mid
    return _sigmoid(logit + (lo + hi) / 2.0)


def _cohort_chunk(
    seed: int,
    index: int,
    start: int,
    size: int,
    treated_share: float,
    rates: tuple[float, float, float, float],
) -> pa.Table:
    rng = _rng(seed, _COHORT_STREAM, index)
    age_band = _sample(rng, _cumulative([0.17, 0.27, 0.32, 0.24]), size)
    female = rng.random(size) < 0.49
    dept = _sample(rng, _DEPT_CUM, size)
    education = _sample(rng, _cumulative([0.38, 0.28, 0.15, 0.19]), size)
    duration = _sample(rng, _cumulative([0.38, 0.20, 0.20, 0.22]), size)
    benefit = rng.random(size) < np.where(duration >= 2, 0.45, 0.62)
    disability = rng.random(size) < 0.085
    in_need = (
        (rng.random(size) < 0.15) | (duration >= 2) & (education == 0) | (disability & ~benefit)
    )
    treated = rng.random(size) < treated_share
    # return to work: less likely when older, longer unemployed, less educated, disabled
    logit = (
        np.array([0.25, 0.35, 0.1, -0.6])[age_band]
        + np.array([-0.45, 0.0, 0.2, 0.35])[education]
        + np.array([0.4, 0.1, -0.35, -0.8])[duration]
        - 0.5 * disability
        + 0.05 * female
    )
    control_3m, treated_3m, control_6m, treated_6m = rates
    p3 = np.where(treated, _calibrated(logit, treated_3m), _calibrated(logit, control_3m))
    p6 = np.where(treated, _calibrated(logit, treated_6m), _calibrated(logit, control_6m))
    u = rng.random(size)  # one draw for both horizons: back at 3 months implies back at 6
    back_3m = u < np.minimum(p3, p6)
    back_6m = u < p6
    ids = np.arange(start, start + size, dtype=np.int64)
    number = (ids * 48_271 + 271_828 + seed * 1_000_003) % (10**10)

    def flag(values: npt.NDArray[np.bool_]) -> pa.Array:
        return pa.array(values.astype(np.int8))

    return pa.table(
        {
            "person_id": _zero_padded(number, 10, prefix="J"),
            "age_band": _take(list(AGE_BANDS), age_band),
            "sex": _take(["M", "F"], female.astype(np.int64)),
            "departement": _take(_DEPT_CODES, dept),
            "region": _take(_REGION_CODES, _DEPT_REGION_INDEX[dept]),
            "education_level": _take(list(EDUCATION_LEVELS), education),
            "unemployment_duration_band": _take(list(UNEMPLOYMENT_DURATION_BANDS), duration),
            "benefit_receipt": flag(benefit),
            "disability": flag(disability),
            "in_need": flag(in_need),
            "treated": flag(treated),
            "back_to_work_3m": flag(back_3m),
            "back_to_work_6m": flag(back_6m),
        }
    )


def generate_jobseeker_cohort(
    rows: int,
    seed: int,
    out: Path,
    progress: Progress | None = None,
    *,
    treated_share: float = 0.5,
    base_rate_6m: float = 0.1999,
    effect_6m: float = 0.0211,
    base_rate_3m: float = 0.11,
    effect_3m: float | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Path:
    """Write a synthetic job-seeker cohort to the Parquet file ``out``; return ``out``.

    Treatment is randomised (share ``treated_share``). Within each chunk the outcome
    probabilities are calibrated so that their mean is exactly ``base_rate_6m`` in the control
    arm and ``base_rate_6m + effect_6m`` in the treated arm (defaults: 19.99 % vs 22.10 %); the
    observed rates differ from these only by sampling noise. ``effect_3m`` defaults to the
    6-month effect scaled by ``base_rate_3m / base_rate_6m``. ``effect_6m=0`` gives a null
    effect. ``back_to_work_3m`` implies ``back_to_work_6m``.
    """
    if not 0.0 <= treated_share <= 1.0:
        raise ValueError("treated_share must lie in [0, 1]")
    if effect_3m is None:
        effect_3m = effect_6m * base_rate_3m / base_rate_6m
    rates = (base_rate_3m, base_rate_3m + effect_3m, base_rate_6m, base_rate_6m + effect_6m)
    return _write(
        out,
        COHORT_SCHEMA,
        rows,
        chunk_rows,
        lambda index, start, size: _cohort_chunk(seed, index, start, size, treated_share, rates),
        progress,
    )


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate Pacte demo datasets (Parquet).")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    parser.add_argument("--dataset", choices=["hiring", "jobseekers"], default="hiring")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    args = parser.parse_args(argv)
    out_dir: Path = args.out
    name = f"{args.dataset}_{args.rows}_seed{args.seed}.parquet"
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"\r{done:,}/{total:,} rows  {elapsed:6.1f} s", end="", file=sys.stderr)

    generate = (
        generate_hiring_declarations if args.dataset == "hiring" else generate_jobseeker_cohort
    )
    path = generate(args.rows, args.seed, out_dir / name, report, chunk_rows=args.chunk_rows)
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    rate = args.rows / elapsed if elapsed > 0 else float("inf")
    print(f"{path}  {args.rows:,} rows in {elapsed:.1f} s ({rate:,.0f} rows/s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
