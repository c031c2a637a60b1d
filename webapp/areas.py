"""Kaltim's regencies, districts (kecamatan) and villages (desa/kelurahan), from the `areaid` package."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from areaid import buka_data

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "kaltim-regions.csv"

# Kaltim's extent (docs/DOMAIN.md), with a small margin: ((lat min, lat max), (lon min, lon max)).
KALTIM_BOUNDS = ((-2.7, 2.7), (113.7, 119.2))

# How far from its capital a place can still be in the regency, roughly (km). Approximate, from the regencies'
# extents; used only to flag a visit as "far outside its regency", never to refuse anything.
REGION_RADIUS_KM = {
    "6401": 110,
    "6402": 140,
    "6403": 170,
    "6404": 190,
    "6405": 180,
    "6409": 70,
    "6411": 200,
    "6471": 35,
    "6472": 35,
    "6474": 25,
}


# What people write for a regency/city besides its name, by Kemendagri code: the abbreviations offices use every
# day and older spellings. Each is also understood after "Kabupaten"/"Kab."/"Pemkab" (regencies) or "Kota"/
# "Pemkot" (cities), as the name itself and the code are. A word that could mean two of them ("Kutai"; "Paser"
# for PPU; "Samarinda" for the regency around the city) is deliberately absent: the import suggests instead.
REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "6401": ("Pasir",),
    "6402": ("Kubar",),
    "6403": ("Kukar",),
    "6404": ("Kutim",),
    "6405": (),  # Berau: its name is what everyone writes
    "6409": ("PPU", "Penajam"),
    "6411": ("Mahulu",),
    "6472": ("Smd",),
    "6474": ("Btg",),
    "6471": ("Bpp",),
}
REGION_PREFIXES = {"Kabupaten": ("Kabupaten", "Kab.", "Pemkab"), "Kota": ("Kota", "Pemkot")}


def region_names(code: str, name: str, kind: str) -> list[str]:
    """Every spelling that means the regency/city `code`: its name and aliases, each bare and after its kind
    ("Kabupaten Berau", "Kab. Kukar", "Kota Samarinda"), and its code."""
    bare = [name, *REGION_ALIASES.get(code, ())]
    return [*bare, *(f"{prefix} {word}" for prefix in REGION_PREFIXES.get(kind, ()) for word in bare), code]


def region_radius_km(code: str) -> float:
    return float(REGION_RADIUS_KM.get(code, 150))


def region_rows() -> list[dict]:
    """The 10 regencies/cities with Kemendagri code, capital, approximate centre and 2025 quota."""
    with REGIONS_CSV.open(newline="", encoding="utf-8") as fh:
        return [
            {
                "code": row["kode"],
                "name": row["nama"],
                "kind": row["jenis"],
                "capital": row["ibukota"],
                "lat": float(row["lat"]),
                "lon": float(row["lon"]),
                "quota": int(row["kuota_2025"]),
            }
            for row in csv.DictReader(fh)
        ]


@cache
def districts() -> dict[str, dict[str, list[str]]]:
    """'Kabupaten Berau' -> {kecamatan: [desa, ...]}, names as areaid spells them, sorted."""
    province = buka_data("kalimantan timur")[0]
    return {
        kab["kab_kota"]: {
            kec["kec"]: sorted(v["kelu"] for v in kec["kelurahan"])
            for kec in sorted(kab["kecamatan"], key=lambda k: k["kec"])
        }
        for kab in province["kabupaten"]
    }


def districts_of(kind: str, name: str) -> dict[str, list[str]]:
    """The kecamatan (with their desa) of one regency/city, e.g. ('Kota', 'Samarinda')."""
    return districts().get(f"{kind} {name}", {})
