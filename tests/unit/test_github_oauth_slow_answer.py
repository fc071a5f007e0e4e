"""A GitHub (or something in its place) that trickles its answer to the sign-in's code
exchange cannot hold a maintainer's sign-in for the client's general 600 s body bound: the
whole answer must arrive within the sign-in's own timeout (`GitHubOAuth(timeout=...)`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from steward.errors import GitHubError
from steward.github.oauth import GitHubOAuth
from tests.support.raw_server import Answer, RawServer

TOKEN = {"access_token": "ghu_" + "a" * 36, "token_type": "bearer", "scope": ""}


def trickle() -> Iterator[bytes]:
    for _ in range(12):  # a byte of white space every 0.25 s, then the answer
        yield b" "
        time.sleep(0.25)
    yield json.dumps(TOKEN).encode()


def test_a_trickled_answer_is_stopped_at_the_sign_in_timeout() -> None:
    with RawServer() as web:
        web.answers["/login/oauth/access_token"] = Answer(
            200, headers={"content-type": "application/json"}, chunks=trickle
        )
        oauth = GitHubOAuth("Iv23liSLOW", "s" * 40, web_url=web.url, api_url=web.url, timeout=1.0)
        with pytest.raises(GitHubError, match=r"took over 1 s to arrive"):
            oauth.exchange_code("code", redirect_uri="http://127.0.0.1/oauth/callback")


def test_an_answer_in_time_is_read() -> None:
    with RawServer() as web:
        web.answers["/login/oauth/access_token"] = Answer(
            200, json.dumps(TOKEN).encode(), {"content-type": "application/json"}
        )
        oauth = GitHubOAuth("Iv23liSLOW", "s" * 40, web_url=web.url, api_url=web.url, timeout=1.0)
        token = oauth.exchange_code("code", redirect_uri="http://127.0.0.1/oauth/callback")
        assert token == TOKEN["access_token"]
