"""One race, told to many people at once (a new race nearby, a deadline reminder)."""

from __future__ import annotations

from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.domain.races import Race
from runway_matching.service_layer.race_finder import shown_to


def stage_race_notices(
    uow: UnitOfWork,
    event_type: str,
    race: Race,
    recipients: list[tuple[str, str | None]],
    geography: GeographyIndex,
    shared: dict[str, object] | None = None,
) -> None:
    """Stage `event_type` for each (lead id, ZIP) as one fan-out outbox row: each person's event
    carries the race as shown where they live, validated by its model and encoded once per ZIP."""
    if not recipients:
        return
    targets = [(lead_id, postal_code or "") for lead_id, postal_code in recipients]
    shown = {
        zip_code: shown_to(race, zip_code or None, geography).model_dump_json()
        for zip_code in {zip_code for _, zip_code in targets}
    }
    uow.outbox.stage_fan_out(
        uow.session, event_type, targets, shown, subject_field="lead_id", variant_field="race", shared=shared
    )
