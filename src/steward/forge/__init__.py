"""The GitHub adapter: HTTP client, snapshot reads, plan executor, label sync."""
