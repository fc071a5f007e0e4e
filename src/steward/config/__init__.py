"""Configuration: the playbook as defaults, `.github/steward.yml` to change them."""

from steward.config.loader import find_config, load_config, parse_config
from steward.config.model import StewardConfig

__all__ = ["StewardConfig", "find_config", "load_config", "parse_config"]
