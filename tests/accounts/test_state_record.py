import datetime as dt

from pacte.accounts.state_record import StatePromises, figures_from_items

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def test_figures_count_on_time_late_and_open_items() -> None:
    items = [
        (day(0), day(2), day(5)),  # answered in 2 days, on time
        (day(0), day(10), day(5)),  # answered in 10 days, late
        (day(0), day(4), day(4)),  # answered on the due date: on time
        (day(0), None, day(3)),  # open and past due at day 6
        (day(5), None, day(30)),  # open, not yet due
    ]
    figures = figures_from_items(items, now=day(6))
    assert figures.answered == 3
    assert figures.median_response_days == 4.0
    assert figures.share_on_time == 2 / 3
    assert figures.open_items == 2
    assert figures.open_past_due == 1


def test_nothing_answered_has_no_median_nor_share() -> None:
    figures = figures_from_items([], now=day(0))
    assert figures.median_response_days is None
    assert figures.share_on_time is None
    assert figures.open_items == 0


def test_registry_keeps_order_and_ignores_a_second_registration() -> None:
    promises = StatePromises()
    promises.register("a", "A", "30 jours", lambda org, now: figures_from_items([], now))
    promises.register("b", "B", "15 jours", lambda org, now: figures_from_items([], now))
    promises.register("a", "A again", "1 jour", lambda org, now: figures_from_items([], now))
    assert [entry.name for entry in promises.entries()] == ["a", "b"]
    assert [entry.label for entry, _ in promises.record(None, day(0))] == ["A", "B"]  # type: ignore[arg-type]
