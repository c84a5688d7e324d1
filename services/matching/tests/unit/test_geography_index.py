from runway_matching.adapters.geography_index import GeographyIndex


def test_lawrence_kansas_resolves_to_its_county_city_and_school_district() -> None:
    location = GeographyIndex.load().locate("66044")
    ids = {d.ocd_id for d in location.divisions}
    assert "ocd-division/country:us/state:ks/county:douglas" in ids
    assert "ocd-division/country:us/state:ks/place:lawrence" in ids
    assert "ocd-division/country:us/state:ks/county:douglas/school_district:lawrence" in ids
    assert location.summary == "Douglas County, KS"


def test_a_zip_with_no_zcta_resolves_to_nothing_rather_than_a_guess() -> None:
    assert not GeographyIndex.load().locate("00000").resolved
