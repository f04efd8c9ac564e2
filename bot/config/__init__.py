"""Configuration: `routes.yaml` in Alertmanager's schema, loaded with file/line/path errors."""

from bot.config.errors import ConfigError, ConfigIssue
from bot.config.loader import Config, InhibitRule, load_config, load_config_text

__all__ = ["Config", "ConfigError", "ConfigIssue", "InhibitRule", "load_config", "load_config_text"]
