"""Addresses from before the URL language rule still lead where they used to (installed phones keep old pages)."""

import pytest

from webapp.old_urls import new_address


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/review/", "/periksa/"),
        ("/review", "/periksa/"),
        ("/review/12", "/periksa/12"),
        ("/review/pendamping", "/periksa/pendamping"),
        ("/data/ekspor/penerima.csv", "/kelola-data/ekspor/penerima.csv"),
        ("/admin/audit", "/pengelola/audit"),
        ("/auth/login", "/akun/masuk"),
        ("/auth/logout", "/akun/keluar"),
        ("/auth/akun", "/akun/"),
    ],
)
def test_old_paths_map_to_their_new_ones(old, new):
    assert new_address(old, []) == (new, [])


def test_old_query_parameters_are_renamed_in_order_with_repeats():
    found = new_address("/periksa/", [("region", "6472"), ("mentor", "3"), ("flag", "a"), ("flag", "b"), ("dari", "x")])
    assert found == (
        "/periksa/",
        [("wilayah", "6472"), ("pendamping", "3"), ("tanda", "a"), ("tanda", "b"), ("dari", "x")],
    )


def test_current_addresses_are_left_alone():
    assert new_address("/periksa/", [("wilayah", "6472"), ("halaman", "2")]) is None
    assert new_address("/kunjungan/", [("q", "siti")]) is None
    assert new_address("/penerima/review/", []) is None  # only a leading prefix counts


def test_old_address_redirects_permanently_keeping_the_query(client):
    response = client.get("/review/?region=6472&page=2")
    assert response.status_code == 308
    assert response.headers["Location"] == "/periksa/?wilayah=6472&halaman=2"


def test_old_login_page_still_opens(client, world):
    response = client.get("/auth/login?next=/kunjungan/")
    assert response.status_code == 308 and response.headers["Location"] == "/akun/masuk?next=%2Fkunjungan%2F"
    assert client.get(response.headers["Location"]).status_code == 200


def test_post_from_a_stored_old_page_is_repeated_at_the_new_address(client):
    response = client.post("/auth/logout", data={"csrf_token": "x"})
    assert response.status_code == 308 and response.headers["Location"] == "/akun/keluar"


def test_old_filters_reach_the_new_queue(login_as):
    client = login_as("supervisor")
    response = client.get("/review/?region=6471&mentor=1")
    assert response.headers["Location"] == "/periksa/?wilayah=6471&pendamping=1"
    assert client.get(response.headers["Location"]).status_code == 200
