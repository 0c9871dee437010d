"""The funding API: paginated public reads, the OCDS 1.1 release package, CSV exports, the
simulator, and the write flow with tokens (clear 4xx on bad input, two-person rule)."""

from __future__ import annotations

import csv
import io
import json

from pacte.funding.models import PaymentOrder
from tests.funding.conftest import published_evaluation


def _bearer(acting):  # type: ignore[no-untyped-def]
    from pacte.accounts.services import create_api_token

    _, raw = create_api_token(acting.user, acting.organisation, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _post(client, url, body, acting):  # type: ignore[no-untyped-def]
    return client.post(
        url, data=json.dumps(body), content_type="application/json", **_bearer(acting)
    )


def _contract_body(active, **kw):  # type: ignore[no-untyped-def]
    body = {
        "pact": active.pact.reference,
        "version": active.number,
        "outcome": "Retour à l'emploi durable",
        "price_eur": "1500",
        "base_fee_eur": "20000",
        "cap_eur": "300000",
        "equity_bonus": "0.10",
        "windows": [{"opens_on": "2026-01-01", "closes_on": "2026-06-30"}],
    }
    return body | kw


def test_the_whole_flow_through_the_api(client, fund, active):  # type: ignore[no-untyped-def]
    r = _post(
        client,
        f"/api/v1/funding/programmes/{fund.programme.slug}/contracts",
        _contract_body(active),
        fund.officer,
    )
    assert r.status_code == 201, r.content
    ref = r.json()["reference"]
    ev = published_evaluation(active.pact.project, fund.evaluator)
    r = _post(
        client,
        f"/api/v1/funding/contracts/{ref}/windows/1/validate",
        {"evaluation": ev.pk},
        fund.evaluator,
    )
    assert r.status_code == 200, r.content
    r = _post(client, f"/api/v1/funding/contracts/{ref}/windows/1/payment", {}, fund.officer)
    assert r.status_code == 201, r.content
    order = r.json()
    assert order["amount_eur"] == "282500.00" and order["formula_version"] == "outcome-payment/1"
    own = _post(client, f"/api/v1/funding/payments/{order['reference']}/approve", {}, fund.officer)
    assert own.status_code == 403 and "approbateur" in own.json()["message"]
    r = _post(client, f"/api/v1/funding/payments/{order['reference']}/approve", {}, fund.approver)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = _post(client, f"/api/v1/funding/payments/{order['reference']}/pay", {}, fund.officer2)
    assert r.status_code == 200 and r.json()["status"] == "paid"
    page = client.get("/api/v1/funding/payments").json()
    assert page["count"] == 1 and page["items"][0]["formula"].startswith("outcome = price × N")
    totals = client.get(f"/api/v1/funding/programmes/{fund.programme.slug}/totals").json()
    assert totals["paid"] == "282500.00" and totals["available"] == "700000.00"


def test_bad_input_gets_a_clear_4xx(client, fund, active):  # type: ignore[no-untyped-def]
    url = f"/api/v1/funding/programmes/{fund.programme.slug}/contracts"
    r = _post(client, url, _contract_body(active, cap_eur="-5"), fund.officer)
    assert r.status_code == 400 and "cap_eur" in r.json()["fields"]
    r = _post(client, url, _contract_body(active, windows=[]), fund.officer)
    assert r.status_code == 400
    r = _post(client, url, _contract_body(active, cap_eur="2000000"), fund.officer)
    assert r.status_code == 409 and r.json()["error"] == "budget_exceeded"
    r = _post(client, "/api/v1/funding/payments/OP-0000-9999/approve", {}, fund.approver)
    assert r.status_code == 404
    r = client.get("/api/v1/funding/programmes?limit=0")
    assert r.status_code == 400
    assert not PaymentOrder.objects.exists()


def test_public_lists_are_paginated(client, fund, contract):  # type: ignore[no-untyped-def]
    for url in (
        "/api/v1/funding/programmes",
        "/api/v1/funding/contracts",
        "/api/v1/funding/payments",
    ):
        page = client.get(url).json()
        # keyset pages: `next` is the cursor of the following page, null on the last one
        assert set(page) == {"count", "items", "next"}
        assert page["next"] is None and page["count"] == len(page["items"])
    assert (
        client.get("/api/v1/funding/programmes").json()["items"][0]["committed_eur"] == "300000.00"
    )
    assert (
        client.get(f"/api/v1/funding/contracts?programme={fund.programme.slug}").json()["count"]
        == 1
    )


def test_simulator(client):  # type: ignore[no-untyped-def]
    r = client.get(
        "/api/v1/funding/simulate",
        {
            "price_eur": "15",
            "n": 10000,
            "ci_low": "0.0175",
            "base_fee_eur": "20000",
            "cap_eur": "300000",
        },
    )
    assert r.status_code == 200 and r.json()["payment_eur"] == "22625.00"
    assert client.get("/api/v1/funding/simulate", {"price_eur": "x"}).status_code == 400


def test_ocds_release_package_and_csv(client, fund, contract):  # type: ignore[no-untyped-def]
    package = client.get("/api/v1/funding/ocds.json").json()
    assert package["version"] == "1.1" and package["publisher"]["name"]
    (release,) = package["releases"]
    assert release["ocid"].startswith("ocds-") and release["initiationType"] == "tender"
    assert release["contracts"][0]["id"] == contract.reference
    assert release["contracts"][0]["value"] == {"amount": 300000.0, "currency": "EUR"}
    assert [m["id"] for m in release["contracts"][0]["milestones"]] == ["window-1", "window-2"]
    rows = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/funding/contracts.csv").content.decode()))
    )
    assert rows[0]["reference"] == contract.reference and rows[0]["cap_eur"] == "300000.00"
    assert (
        client.get("/api/v1/funding/payments.csv")
        .content.decode()
        .startswith("reference,contract,")
    )


def test_ocds_package_is_valid_against_the_official_release_schema(client, fund, contract):  # type: ignore[no-untyped-def]
    """Every release validates against the official OCDS 1.1 release schema (Draft 4, formats
    checked); the package envelope has the fields the release package schema requires."""
    import jsonschema_rs

    from pacte.funding import payments
    from tests.funding.ocds_official import official_release_schema
    from tests.funding.test_pages import _prepared

    order = _prepared(fund, contract)
    payments.approve(fund.approver, order)
    payments.pay(fund.officer, order)
    package = client.get("/api/v1/funding/ocds.json").json()
    validator = jsonschema_rs.Draft4Validator(official_release_schema(), validate_formats=True)
    assert package["releases"]
    for release in package["releases"]:
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(release)]
        assert errors == [], errors
    # the release package envelope (OCDS 1.1 release-package-schema: required fields and types)
    assert {"uri", "version", "publishedDate", "publisher", "releases"} <= set(package)
    assert package["version"] == "1.1" and isinstance(package["publisher"]["name"], str)
    # the oracle is not lenient: a release without its ocid, or a tag outside the codelist, fails
    broken = dict(package["releases"][0])
    del broken["ocid"]
    assert not validator.is_valid(broken)
    assert not validator.is_valid({**package["releases"][0], "tag": ["paiement"]})
