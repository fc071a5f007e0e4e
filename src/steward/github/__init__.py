"""The GitHub adapter: the only code that speaks HTTP to GitHub.

`sansio` (pure: rate limits, pagination links, redirects, errors, token redaction),
`budget` (pure: conditional requests, write pacing), `client` (httpx over that core) and
`repo_api` (every REST call steward makes, as typed records). Every REST path lives here.
"""
