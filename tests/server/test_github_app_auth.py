"""GitHub App auth against the spec-validating test server: the App's JWT (RS256, ``iat``
60 s back, ``exp`` 10 minutes ahead), installation tokens cached until shortly before they
expire, and clients per installation that act on the repository."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest

from steward.errors import AuthError, ConfigError, NotFoundError
from steward.github.app_api import token_from_api
from steward.github.client import counting_writes
from steward.github.repo_api import RepoApi
from steward.server.github_app import app_jwt, load_private_key
from tests.server.conftest import app_on
from tests.support.fake_clock import FakeClock
from tests.support.github_app_server import APP_ID, INSTALLATION_ID, GitHubAppServer
from tests.support.github_material import REPO


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gh(clock: FakeClock) -> Iterator[GitHubAppServer]:
    with GitHubAppServer(clock=clock) as server:
        server.add_issue(1, "Logger drops the sampling rate", labels=("bug",))
        yield server
        server.assert_clean()


def test_jwt_claims_are_githubs_rs256_iat_minus_60_exp_plus_10_minutes():
    from tests.support.github_app_server import app_private_key, app_private_key_pem

    key = load_private_key(app_private_key_pem())
    token = app_jwt(APP_ID, key, 1_800_000_000.7)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token,
        app_private_key().public_key(),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert header["alg"] == "RS256"
    assert claims == {"iat": 1_800_000_000 - 60, "exp": 1_800_000_000 + 600, "iss": str(APP_ID)}


def test_a_key_that_is_not_an_rsa_pem_is_a_config_error_without_the_key():
    with pytest.raises(ConfigError, match="not a PEM private key") as exc:
        load_private_key("-----BEGIN RSA PRIVATE KEY-----\nsecretstuff\n-----END RSA")
    assert "secretstuff" not in str(exc.value)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ConfigError, match="must be an RSA key"):
        load_private_key(ed)


def test_the_server_accepts_the_jwt_and_the_app_reads_its_bot_login(
    gh: GitHubAppServer, clock: FakeClock
):
    app = app_on(gh, clock)
    assert app.bot_login() == "repo-steward[bot]"
    assert app.bot_login() == "repo-steward[bot]"  # read once
    assert gh.reads() == [("GET", "/app")]
    claims = gh.jwt_claims[0]
    assert claims["exp"] - clock.now == 600
    assert clock.now - claims["iat"] == 60


def test_a_jwt_for_another_app_is_refused(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock)
    app.app_id = "1"
    with pytest.raises(AuthError, match="401"):
        app.bot_login()


def test_a_jwt_too_far_in_the_future_is_refused(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock)
    token = app.jwt()
    clock.now -= 30  # the server's clock is behind the App's: exp is over 10 minutes ahead
    from steward.github.client import GitHubClient

    with GitHubClient(token, gh.url) as client, pytest.raises(AuthError, match="too far"):
        client.get("/app")


def test_installation_token_is_issued_once_and_reused_until_near_expiry(
    gh: GitHubAppServer, clock: FakeClock
):
    app = app_on(gh, clock)
    first = app.installation_token(INSTALLATION_ID)
    assert first.startswith("ghs_")
    clock.now += 3600 - 301  # still more than five minutes left
    assert app.installation_token(INSTALLATION_ID) == first
    assert gh.tokens_issued == [INSTALLATION_ID]
    clock.now += 2  # inside the refresh margin
    second = app.installation_token(INSTALLATION_ID)
    assert second != first
    assert gh.tokens_issued == [INSTALLATION_ID, INSTALLATION_ID]
    assert app.tokens_issued == 2


def test_github_for_acts_on_the_repository_with_the_installation_token(
    gh: GitHubAppServer, clock: FakeClock
):
    app = app_on(gh, clock)
    client = app.github_for(INSTALLATION_ID)
    assert app.github_for(INSTALLATION_ID) is client  # one per installation, reused
    api = RepoApi(client, REPO)
    assert api.issue(1).labels == ("bug",)
    api.add_labels(1, ["triage"])
    api.comment(1, "thanks")
    assert gh.labels_of(1) == ["bug", "triage"]
    assert gh.tokens_issued == [INSTALLATION_ID]
    assert gh.rate_used[f"installation:{INSTALLATION_ID}"] == 3
    app.close()


def test_a_long_lived_client_follows_the_token_renewal(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock)
    api = RepoApi(app.github_for(INSTALLATION_ID), REPO)
    api.issue(1)
    clock.now += 3600 - 200  # inside the refresh margin: renewed before it can expire
    api.issue(1)
    clock.now += 3600  # long past the second token's life
    api.issue(1)
    assert len(gh.tokens_issued) == 3
    assert [c.status for c in gh.calls if c.path.endswith("/issues/1")] == [200, 200, 200]


def test_a_revoked_token_is_replaced_once_and_the_request_goes_again(
    gh: GitHubAppServer, clock: FakeClock
):
    """Before: a token revoked early (an App reinstalled) failed every job of its
    installation until it expired, since nothing called `forget_token`."""
    app = app_on(gh, clock)
    api = RepoApi(app.github_for(INSTALLATION_ID), REPO)
    gh.issued.clear()  # revoked
    api.add_labels(1, ["bug"])  # a POST too: GitHub did not act on the 401
    assert gh.labels_of(1) == ["bug"]
    assert len(gh.tokens_issued) == 2
    label_posts = [c.status for c in gh.calls if c.method == "POST" and "/labels" in c.path]
    assert label_posts == [401, 200]


def test_making_a_token_is_not_a_jobs_write(gh: GitHubAppServer, clock: FakeClock):
    """Reproduction (review): the POST that mints an installation token counted in
    the job's writes, so any failed job that renewed a token looked as if it had progressed
    and got its attempt back."""
    app = app_on(gh, clock)
    api = RepoApi(app.github_for(INSTALLATION_ID), REPO)
    with counting_writes() as tally:
        clock.now += 3600  # the token expired: the next request makes a new one
        api.issue(1)
        assert len(gh.tokens_issued) == 2
        assert tally.accepted == 0
        api.add_labels(1, ["bug"])
        assert tally.accepted == 1


def test_forgetting_a_token_already_replaced_keeps_the_new_one(
    gh: GitHubAppServer, clock: FakeClock
):
    app = app_on(gh, clock)
    old = app.installation_token(INSTALLATION_ID)
    app.forget_token(INSTALLATION_ID, old)
    new = app.installation_token(INSTALLATION_ID)
    app.forget_token(INSTALLATION_ID, old)  # a second thread's late report of the same 401
    assert app.installation_token(INSTALLATION_ID) == new
    assert len(gh.tokens_issued) == 2


def test_a_token_refused_twice_in_a_row_is_an_auth_error(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock)
    api = RepoApi(app.github_for(INSTALLATION_ID), REPO)
    real = app.installation_token

    def revoked_at_once(installation_id: int) -> str:
        token = real(installation_id)
        gh.issued.clear()  # every new token revoked as soon as it is issued
        return token

    app.installation_token = revoked_at_once  # type: ignore[method-assign]
    with pytest.raises(AuthError, match="401") as exc:
        api.issue(1)
    assert "ghs_" not in str(exc.value)
    assert [c.status for c in gh.calls if c.path.endswith("/issues/1")] == [401, 401]


def test_the_app_jwt_is_reused_for_five_minutes(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock)
    first = app.jwt()
    clock.now += 299
    assert app.jwt() == first
    clock.now += 1
    assert app.jwt() != first


def test_an_unknown_installation_is_not_found(gh: GitHubAppServer, clock: FakeClock):
    app = app_on(gh, clock)
    with pytest.raises(NotFoundError):
        app.github_for(999)


def test_an_installation_sees_only_its_repositories(gh: GitHubAppServer, clock: FakeClock):
    gh.add_installation(7, ())
    app = app_on(gh, clock)
    with pytest.raises(NotFoundError):
        RepoApi(app.github_for(7), REPO).issue(1)


def test_transport_for_gives_each_client_its_transport(gh: GitHubAppServer, clock: FakeClock):
    import httpx

    seen: list[tuple[int, str]] = []

    class Counting(httpx.HTTPTransport):
        def __init__(self, installation: int) -> None:
            super().__init__()
            self.installation = installation

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append((self.installation, request.url.path))
            return super().handle_request(request)

    app = app_on(gh, clock, transport_for=Counting)
    RepoApi(app.github_for(INSTALLATION_ID), REPO).issue(1)
    assert seen == [
        (0, f"/app/installations/{INSTALLATION_ID}/access_tokens"),
        (INSTALLATION_ID, f"/repos/{REPO}/issues/1"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected the installation token object"),
        ({"expires_at": "2016-07-11T22:14:10Z"}, "has no token"),
        ({"token": "ghs_x"}, "has no expires_at"),
        ({"token": "ghs_x", "expires_at": "soon"}, "not a date-time"),
        ({"token": "ghs_x", "expires_at": "2016-07-11T22:14:10"}, "no time zone"),
    ],
)
def test_token_answers_without_the_documented_fields_are_payload_errors(data, message):
    from steward.errors import PayloadError

    with pytest.raises(PayloadError, match=message):
        token_from_api(data, "POST /app/installations/1/access_tokens")


def test_token_expiry_is_read_from_the_documented_example():
    from tests.support import openapi

    made = token_from_api(openapi.example("installation-token"), "x")
    assert made.expires_at == 1468275250.0  # 2016-07-11T22:14:10Z
