"""Write a realistic recipient list to try the import with: 2,000 rows for budget year 2026, 20 of them wrong
in the ways staff get them wrong (short NIK, decile 6, unknown kecamatan, a NIK twice, an empty name…).

    .venv/bin/python scripts/sample_import.py daftar-2026.xlsx [--rows 2000] [--bad 20]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADERS = [
    "No",
    "NIK",
    "No. KK",
    "Nama KPM",
    "Jenis Kelamin",
    "Alamat",
    "Kabupaten/Kota",
    "Kecamatan",
    "Desa/Kelurahan",
    "Desil",
    "Jenis Usaha",
    "Paket Bantuan",
    "Sumber Dana",
    "No HP",
]
BUSINESSES = {
    "Gorengan": "Wajan; Kompor gas; Tabung gas 3 kg; Tepung terigu 10 kg; Minyak goreng 5 L",
    "Warung sembako": "Etalase; Beras 50 kg; Gula 20 kg; Minyak goreng 10 L",
    "Jahit": "Mesin jahit; Gunting kain; Benang 20 gulung",
    "Kue basah": "Oven; Loyang; Mixer; Tepung 10 kg",
}
FIRST = ["Siti", "Nur", "Rahmah", "Dewi", "Ahmad", "Budi", "Rahmat", "Yusuf", "Hasnah", "Wahyuni", "Fitri", "Agus"]
LAST = ["Aminah", "Hidayat", "Saputra", "Lestari", "Daeng", "Lawing", "Sari", "Kurniawan", "Rahayu", "Pratama"]
# (column, bad value, what is wrong) — cycled over the bad rows
MISTAKES = [
    ("NIK", "64720141019", "NIK too short"),
    ("Desil", "6", "decile 6"),
    ("Kecamatan", "Kecamatan Khayalan", "unknown kecamatan"),
    ("No. KK", "6472-0101", "KK too short"),
    ("Nama KPM", "", "empty name"),
    ("Kabupaten/Kota", "Kab. Kutai Tengah", "unknown regency"),
    ("Desa/Kelurahan", "Desa Antah Berantah", "unknown village"),
    ("Jenis Kelamin", "X", "sex not L/P"),
    ("Sumber Dana", "APBN", "unknown funding source"),
    ("NIK", "DUPLICATE", "NIK twice in the file"),
]


def make_rows(n: int, bad: int, seed: int = 2026) -> list[list]:
    from webapp import areas

    rng = random.Random(seed)
    places = []
    for region in areas.region_rows():
        for kecamatan, desas in areas.districts_of(region["kind"], region["name"]).items():
            places.extend((region["code"], f"{region['kind']} {region['name']}", kecamatan, d) for d in desas[:3])
    rows = []
    for i in range(n):
        code, region, kecamatan, desa = rng.choice(places)
        female = rng.random() < 0.6
        day = rng.randint(1, 28) + (40 if female else 0)
        nik = f"{code}{rng.randint(1, 20):02d}{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}{i:04d}"
        business = rng.choice(list(BUSINESSES))
        rows.append(
            [
                i + 1,
                nik,
                f"{code}{rng.randint(10, 99):02d}{i:010d}",
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "P" if female else "L",
                f"RT {rng.randint(1, 30):02d}",
                region,
                kecamatan,
                desa,
                rng.choice([1, 1, 2, 2, 3, 4, 5]),
                business,
                BUSINESSES[business],
                "APBD-P" if rng.random() < 0.11 else "APBD",
                f"08{rng.randint(1100000000, 5999999999)}",
            ]
        )
    for k, index in enumerate(sorted(rng.sample(range(1, n), bad))):
        column, value, _why = MISTAKES[k % len(MISTAKES)]
        col = HEADERS.index(column)
        rows[index][col] = rows[index - 1][1] if value == "DUPLICATE" else value
    return rows


def write_sample(path: Path, rows: int = 2000, bad: int = 20) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "KPM UEP 2026"
    sheet.append(["DAFTAR CALON PENERIMA BANTUAN UEP TAHUN 2026"])
    sheet.append([])
    sheet.append(HEADERS)
    for row in make_rows(rows, bad):
        sheet.append(row)
    for cell in sheet["B"] + sheet["C"]:
        cell.number_format = "@"  # NIK and KK as text, as staff are told to
    workbook.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--bad", type=int, default=20)
    args = parser.parse_args()
    print(write_sample(args.path, args.rows, args.bad))


if __name__ == "__main__":
    main()
