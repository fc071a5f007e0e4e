"""The GitHub adapter: the only code that speaks HTTP to GitHub.

`sansio` (pure: rate limits, pagination links, redirects, errors, token redaction),
`budget` (pure: conditional requests, write pacing), `client` (httpx over that core),
`transport` (a transport that reports each exchange, for metrics), `repo_api` (every REST
call on a repository), `app_api` (the GitHub App's own endpoints, an installation's
repositories, the manifest conversion), `oauth` (the maintainers' page's GitHub sign-in) and
`records` (what they hand back). Every REST path
lives here, and no other package imports httpx to reach GitHub.
"""
