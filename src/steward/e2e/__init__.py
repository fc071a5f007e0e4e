"""The playbook's E2E framework as a pytest plugin (opt-in)."""
