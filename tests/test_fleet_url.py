"""``fleet.url``: one setting enables the fleet; passwords never go in it."""

from __future__ import annotations

import pytest

from kiosk.errors import ConfigError
from kiosk.settings import load_settings
from kiosk.settings.fleeturl import fleet_url_problem, fleet_where


def test_the_fleet_is_off_by_default_and_one_variable_enables_it():
    assert load_settings(None, {}).fleet.url == ""
    url = "postgresql://kiosk-east@db.site:5433/kiosks?sslmode=verify-full"
    assert load_settings(None, {"KIOSK_FLEET_URL": url}).fleet.url == url


PASSWORD = ".pgpass"
NESTED = "database name is itself a connection string"


@pytest.mark.parametrize("url, says", [
    ("postgresql://kiosk:secret@db.site/kiosks", PASSWORD),
    ("postgresql://db.site/kiosks?password=secret", PASSWORD),
    ("host=db.site password=secret dbname=kiosks", PASSWORD),
    ("host=db.site PASSWORD='se cret'", PASSWORD),
    # libpq's passphrase of the client's TLS key is a secret too.
    ("postgresql://kiosk@db/kiosks?sslmode=verify-full&sslpassword=secret", PASSWORD),
    ("postgresql://kiosk@db/kiosks?SSLPassword=secret", PASSWORD),
    ("host=db.site sslpassword=secret", PASSWORD),
    # libpq expands such a database name into parameters of its own: a password could hide
    # there, past the check and into `kiosk settings` and `fleet status`.
    ("dbname='host=db.site user=kiosk-a password=secret'", NESTED),
    ("host=db.site dbname='postgresql://kiosk:secret@db.site/kiosks'", NESTED),
    ("postgresql://db.site/kiosks?dbname=host%3Ddb%20password%3Dsecret", NESTED),
    ("postgresql://db.site/host%3Ddb%20password%3Dsecret", NESTED),
])
def test_a_password_in_the_url_is_refused_naming_the_key(url, says):
    with pytest.raises(ConfigError) as refused:
        load_settings(None, {"KIOSK_FLEET_URL": url})
    assert "fleet.url" in str(refused.value) and "secret" not in str(refused.value)
    assert says in str(refused.value)


@pytest.mark.parametrize("url, problem", [
    ("mysql://db/kiosks", "postgresql://"),
    ("just some words", "keyword/value"),
    ("postgresql://db:notaport/kiosks", "not a valid URL"),
])
def test_other_addresses_are_refused(url, problem):
    assert problem in (fleet_url_problem(url) or "")


@pytest.mark.parametrize("url, where", [
    ("postgresql://kiosk-east@db.site:5433/kiosks?sslmode=require", "db.site:5433/kiosks"),
    ("service=site", "service site"),
    ("host=/run/pg dbname=kiosks user=k", "/run/pg/kiosks"),
    ("postgresql:///kiosks?host=/tmp/s", "local socket/kiosks"),
])
def test_the_server_is_named_without_user_or_parameters(url, where):
    assert fleet_url_problem(url) is None
    assert fleet_where(url) == where
