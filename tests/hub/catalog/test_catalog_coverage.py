"""The demo city's catalog covers what a city's 一网通办 is asked for most (read from the package data,
no database): enough items across the departments, the licences people ask for by name, and a service
for every department that 12345 events are dispatched to."""

from __future__ import annotations

import pytest
import yaml

from aicity.demo.loader import data_dir
from aicity.hub.catalog import service as catalog


@pytest.fixture(scope="module")
def bundled() -> catalog.Catalog:
    return catalog.read_catalog_dir(data_dir() / "catalog")


def _departments() -> set[str]:
    return {d["id"] for d in yaml.safe_load((data_dir() / "departments.yaml").read_text(encoding="utf-8"))}


def test_the_catalog_has_200_items_across_the_departments(bundled: catalog.Catalog) -> None:
    assert len(bundled.items) >= 200
    used = {i.department for i in bundled.items.values()}
    assert used <= _departments()
    assert len(used) >= 25


def test_the_internet_cafe_licence_is_its_own_item_under_its_own_regulation(bundled: catalog.Catalog) -> None:
    cafe = bundled.items["culture_tourism.internet_cafe_license"]
    assert cafe.time_limit.statutory_days == 20
    assert {r.doc for r in cafe.legal_basis} >= {"互联网上网服务营业场所管理条例"}
    assert all(r.doc != "娱乐场所管理条例" for r in cafe.legal_basis)  # a different regime from KTVs
    assert "public_security.internet_cafe_security_commitment" in bundled.items


def test_the_hair_salon_hygiene_licence_is_covered(bundled: catalog.Catalog) -> None:
    for item_id in ("health.public_place_hygiene_license", "health.public_place_hygiene_license_renewal"):
        item = bundled.items[item_id]
        assert any(r.doc == "公共场所卫生管理条例" for r in item.legal_basis)
    assert "理发" in " ".join(bundled.items["health.public_place_hygiene_license"].keywords)


def test_every_department_that_12345_dispatches_to_has_services(bundled: catalog.Catalog) -> None:
    categories = yaml.safe_load((data_dir() / "event_categories.yaml").read_text(encoding="utf-8"))
    used = {i.department for i in bundled.items.values()}
    assert {c["department"] for c in categories} <= used


def test_an_item_of_an_unknown_department_fails_the_load(bundled: catalog.Catalog) -> None:
    broken = catalog.Catalog(items=dict(bundled.items))
    cafe = broken.items["culture_tourism.internet_cafe_license"]
    broken.items[cafe.id] = cafe.model_copy(update={"department": "no_such_bureau"})
    with pytest.raises(catalog.CatalogError, match="unknown department no_such_bureau"):
        broken.validate_references(_departments())
