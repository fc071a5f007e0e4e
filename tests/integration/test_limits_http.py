"""What a server says is bounded (issue #16, limits): page walks and HTTP bodies.

Reproductions, each first seen failing:

* an API answering ``Link: <same URL>; rel="next"`` made `steward sweep` send 40,412
  requests in 60 s and never stop; an API with a next page after every page never stops
  either. A page read twice, or one page past the most a listing may take, is now one line
  naming the endpoint, exit 1.
* every body was read whole, however large: a 40 MB answer (or 40 MB out of a 40 kB gzip
  stream) was held in memory and parsed. Bodies are streamed and stop past the cap: the
  GitHub client's answers, the App's token exchange, a package index's pages and files.

The local GitHub validates every answer against GitHub's OpenAPI description; the raw server
stands in for the answers GitHub never sends.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward import limits
from steward.errors import GitHubError, ReleaseError
from steward.github.client import GitHubClient
from steward.pipeline.index import existing_files
from steward.server.github_app import GitHubApp
from tests.integration.conftest import Steward
from tests.support.github_app_server import APP_ID, app_private_key_pem
from tests.support.github_material import REPO, pull_request_event
from tests.support.github_server import GitHubServer
from tests.support.raw_server import Answer, RawServer

R = f"/repos/{REPO}"
OLD = "2024-01-01T00:00:00Z"


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- page walks -------------------------------------------------------------------------------


def test_sweep_stops_when_the_next_page_is_the_same_page(steward: Steward, gh: GitHubServer):
    gh.add_issue(1, "idle issue").updated_at = OLD
    gh.bad_links = "loop"
    run = steward("sweep", "--repo", REPO)
    assert run.code == 1
    line = _one_line(run.err)
    assert line.startswith(f"error: GET {R}/issues: ")
    assert "loops" in line
    lists = [c for c in gh.all_calls if c.path == f"{R}/issues"]
    assert len(lists) == 1  # the link back to the first page is never followed
    assert gh.writes() == []  # nothing acted on from a listing that did not end


def test_a_listing_stops_one_page_past_max_pages(gh: GitHubServer):
    gh.add_issue(1, "x")
    gh.bad_links = "endless"
    with (
        GitHubClient("test-token", gh.url, max_pages=5) as client,
        pytest.raises(GitHubError) as exc,
    ):
        list(client.paginate(f"{R}/issues"))
    message = str(exc.value)
    assert message.startswith(f"GET {R}/issues: more than 5 pages")
    assert "\n" not in message
    assert len(gh.all_calls) == 5
    gh.assert_clean()


def test_the_default_page_limit_is_the_limits_modules():
    client = GitHubClient("t", "http://127.0.0.1:9")
    assert client.max_pages == limits.MAX_PAGES
    assert client.max_body == limits.MAX_API_BODY
    client.close()


def test_an_ordinary_listing_on_many_pages_still_reads_them_all(gh: GitHubServer):
    for n in range(1, 251):
        gh.add_issue(n, f"issue {n}")
    with GitHubClient("test-token", gh.url, max_pages=3) as client:
        got = [i["number"] for i in client.paginate(f"{R}/issues")]
    assert sorted(got) == list(range(1, 251))
    gh.assert_clean()


# -- bodies -----------------------------------------------------------------------------------

BIG = limits.MAX_API_BODY + 8 * limits.MiB


def _json_object(total: int) -> Iterator[bytes]:
    """A JSON object holding one long string, ``total`` bytes in all, made as it is sent."""
    yield b'{"filler": "'
    block = b"x" * 65536
    sent = 12
    while sent + len(block) < total:
        yield block
        sent += len(block)
    yield b'"}'


def _handle_against(
    steward: Steward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: Answer
) -> str:
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps(pull_request_event("opened", title="feat: x")), "utf-8")
    with RawServer() as raw:
        raw.answers[f"{R}/pulls/2/files"] = answer
        monkeypatch.setenv("GITHUB_API_URL", raw.url)
        run = steward("handle", "--event-name", "pull_request", "--payload", str(payload))
    assert run.code == 1, run.err
    return _one_line(run.err)


def test_an_answer_over_the_cap_stops_reading_with_one_line(
    steward: Steward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    answer = Answer(200, headers={"content-type": "application/json"})
    answer.chunks = lambda: _json_object(BIG)
    line = _handle_against(steward, tmp_path, monkeypatch, answer)
    assert line == (
        f"error: GET {R}/pulls/2/files: the answer is over the limit of "
        f"{limits.size_text(limits.MAX_API_BODY)}; stopped reading it"
    )


def test_the_cap_counts_the_decoded_bytes_of_a_compressed_answer(
    steward: Steward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    bomb = gzip.compress(b"".join(_json_object(BIG)), compresslevel=9)
    assert len(bomb) < limits.MiB
    answer = Answer(200, bomb, {"content-type": "application/json", "content-encoding": "gzip"})
    line = _handle_against(steward, tmp_path, monkeypatch, answer)
    assert "the answer is over the limit of" in line


def test_the_apps_token_exchange_reads_a_capped_answer():
    with RawServer() as raw:
        answer = Answer(201, headers={"content-type": "application/json"})
        answer.chunks = lambda: _json_object(BIG)
        raw.answers["/app/installations/7/access_tokens"] = answer
        app = GitHubApp(APP_ID, app_private_key_pem(), base_url=raw.url)
        with pytest.raises(GitHubError) as exc:
            app.installation_token(7)
        app.close()
    assert str(exc.value).startswith("POST /app/installations/7/access_tokens: the answer is over")
    assert len(raw.seen) == 1  # not sent again: a body over the cap is not a passing fault


def test_a_package_index_page_over_the_cap_is_one_release_error():
    total = limits.MAX_INDEX_PAGE + limits.MiB
    with RawServer() as raw:
        page = Answer(200, headers={"content-type": "text/html"})
        page.chunks = lambda: (b"<a>x</a>" * 8192 for _ in range(total // 65536 + 1))
        raw.answers["/simple/sample/"] = page
        with pytest.raises(ReleaseError) as exc:
            existing_files(f"{raw.url}/simple/", "sample")
    message = str(exc.value)
    assert "\n" not in message
    assert "over the limit of 64 MiB" in message
    assert "/simple/sample/" in message


def test_a_package_index_file_is_hashed_as_it_streams_and_capped(
    monkeypatch: pytest.MonkeyPatch,
):
    import hashlib

    data = b"wheel bytes " * 100_000
    with RawServer() as raw:
        raw.answers["/simple/sample/"] = Answer(
            200,
            b'<a href="/files/sample-1.0-py3-none-any.whl#md5=abc">sample-1.0-py3-none-any.whl</a>',
            {"content-type": "text/html"},
        )
        raw.answers["/files/sample-1.0-py3-none-any.whl"] = Answer(200, data)
        got = existing_files(f"{raw.url}/simple/", "sample")
        assert got == {"sample-1.0-py3-none-any.whl": hashlib.sha256(data).hexdigest()}
        monkeypatch.setattr(limits, "MAX_DOWNLOAD", len(data) - 1)
        with pytest.raises(ReleaseError, match="over the limit of"):
            existing_files(f"{raw.url}/simple/", "sample")
