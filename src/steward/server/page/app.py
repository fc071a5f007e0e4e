"""The operator listener: ``/metrics`` and the maintainers' page, never on the webhook's port.

The page is three server-rendered views (Jinja2, no script):

- **Queue**: deliveries received, done, retried and dead per hour, the oldest waiting job,
  the dead letters with their last error and a retry button (a POST with a CSRF token, for
  a signed-in maintainer only);
- **Repositories**: per installation, what its last survey (`server.survey`) found;
- **Releases**: the last release runs with their Gantt.

The page reads only the database: it never calls GitHub, so it works while GitHub is down
and costs no API budget. It is on only when a sign-in is configured (a static token, or
GitHub sign-in through the App's OAuth client); otherwise the listener serves ``/metrics``
alone. Every page answer carries a strict Content-Security-Policy (no script, styles from
the page's own stylesheet) and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from steward.server.jobs import Jobs
from steward.server.metrics import METRICS, Metrics
from steward.server.page import charts
from steward.server.page.auth import HEADERS, Maintainer, PageAuth, small_form
from steward.server.page.queue import SERIES, job_of, owner, read_queue
from steward.server.page.render import stylesheet, templates
from steward.server.page.views import releases_view, repositories_view
from steward.server.settings import Settings
from steward.server.surveys import InstallationSurvey, Surveys

log = logging.getLogger(__name__)

OFF = (
    "The maintainers' page is off: set page_token (STEWARD_PAGE_TOKEN) for a static sign-in, "
    "or oauth_client_id, oauth_client_secret and maintainers_team for GitHub sign-in.\n"
)


Handler = Callable[[Request], Awaitable[Response]]


class Page:
    def __init__(
        self, settings: Settings, engine: Engine, auth: PageAuth, surveys: Surveys
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.auth = auth
        self.surveys = surveys
        self.jobs = Jobs(engine, max_attempts=settings.max_attempts)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self._signed_in(self.home), methods=["GET"]),
            Route("/queue", self._signed_in(self.queue), methods=["GET"]),
            Route("/queue/retry", self._signed_in(self.retry), methods=["POST"]),
            Route("/repositories", self._signed_in(self.repositories), methods=["GET"]),
            Route("/releases", self._signed_in(self.releases), methods=["GET"]),
            Route("/page.css", self.stylesheet, methods=["GET"]),
            *self.auth.routes(),
        ]

    def _signed_in(self, view: Callable[[Request, Maintainer], Awaitable[Response]]) -> Handler:
        async def guarded(request: Request) -> Response:
            who = self.auth.current(request)
            if who is None:
                if request.method == "GET":
                    return self.auth.login_redirect(request)
                return self.render(
                    request,
                    None,
                    "error.html",
                    status=403,
                    message=("Sign in first: this action is for signed-in maintainers."),
                )
            return await view(request, who)

        return guarded

    def render(
        self,
        request: Request,
        who: Maintainer | None,
        name: str,
        *,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        html = (
            templates()
            .get_template(name)
            .render(
                who=who,
                csrf=self.auth.csrf_token(request) if who is not None else "",
                path=request.url.path,
                **context,
            )
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    async def home(self, request: Request, who: Maintainer) -> Response:
        return RedirectResponse("/queue", status_code=303, headers=HEADERS)

    async def queue(self, request: Request, who: Maintainer) -> Response:
        view = await run_in_threadpool(read_queue, self.engine)
        oldest_shown = True
        if who.orgs is not None:  # the counts are the server's; names only of their own
            known = await run_in_threadpool(self.surveys.accounts)
            dead = [d for d in view.dead if who.sees(owner(d.subject, d.installation_id, known))]
            if view.oldest is not None:
                oldest_shown = who.sees(
                    owner(view.oldest.subject, view.oldest.installation_id, known)
                )
            view = replace(view, dead=dead)
        retried = request.query_params.get("retried")
        missing = request.query_params.get("missing")
        return self.render(
            request,
            who,
            "queue.html",
            q=view,
            oldest_shown=oldest_shown,
            series=SERIES,
            chart=charts.hourly(view.hours),
            retried=retried if retried and retried.isdigit() else None,
            missing=missing if missing and missing.isdigit() else None,
        )

    async def retry(self, request: Request, who: Maintainer) -> Response:
        form = await small_form(request, max_fields=4)
        if form is None:
            message = "Form too large, or not a form (at most 4 KB, urlencoded)."
            return self.render(request, who, "error.html", status=413, message=message)
        if not self.auth.check_csrf(request, form.get("csrf")):
            return self.render(
                request,
                who,
                "error.html",
                status=403,
                message="This form has expired or did not come from this page: reload and retry.",
            )
        raw = form.get("job")
        if raw is None or not raw.isdigit() or len(raw) > 18:
            return self.render(request, who, "error.html", status=400, message="No job named.")
        job = int(raw)
        if who.orgs is not None:
            found = await run_in_threadpool(job_of, self.engine, job)
            known = await run_in_threadpool(self.surveys.accounts)
            if found is not None and not who.sees(owner(*found, known)):
                log.warning(
                    "job %d: a retry by %s refused (not their organisation's)", job, who.login
                )
                return self.render(
                    request,
                    who,
                    "error.html",
                    status=403,
                    message=f"Job {job} is not a job of your organisations.",
                )
        n = await run_in_threadpool(self.jobs.retry, [job])
        if n:
            log.info("job %d queued again by %s (%s)", job, who.login, who.via)
            return RedirectResponse(f"/queue?retried={job}", status_code=303, headers=HEADERS)
        return RedirectResponse(f"/queue?missing={job}", status_code=303, headers=HEADERS)

    async def _surveyed(self, who: Maintainer) -> list[InstallationSurvey]:
        """The surveys of the installations ``who`` may see."""
        surveyed = await run_in_threadpool(self.surveys.latest)
        return [i for i in surveyed if who.sees(i.account)]

    async def repositories(self, request: Request, who: Maintainer) -> Response:
        surveyed = await self._surveyed(who)
        context = repositories_view(surveyed, self.settings.survey_interval_seconds)
        return self.render(request, who, "repositories.html", **context)

    async def releases(self, request: Request, who: Maintainer) -> Response:
        surveyed = await self._surveyed(who)
        return self.render(request, who, "releases.html", **releases_view(surveyed))

    async def stylesheet(self, request: Request) -> Response:
        return Response(
            stylesheet(),
            media_type="text/css",
            headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
        )


def create_operator_app(
    settings: Settings,
    engine: Engine | None,
    *,
    metrics: Metrics = METRICS,
    auth: PageAuth | None = None,
) -> Starlette:
    """``/metrics``, and the page when a sign-in is configured and a database is given."""

    async def exposition(request: Request) -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    routes: list[BaseRoute] = [Route("/metrics", exposition, methods=["GET"])]
    auth = auth or PageAuth(settings)
    if engine is not None and auth.methods:
        routes.extend(Page(settings, engine, auth, Surveys(engine)).routes())
    else:

        async def off(request: Request) -> Response:
            return PlainTextResponse(OFF, status_code=404, headers={"Cache-Control": "no-store"})

        routes.append(Route("/", off, methods=["GET"]))
    return Starlette(routes=routes)
