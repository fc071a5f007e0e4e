"""pytest plugin entry point; inert unless a project opts in."""
