"""Configuration as code: the one YAML file that `apply` sends and `check-config` checks."""

from watchkeeper.config.load import check_config, check_file, load_config, validate_config
from watchkeeper.config.schema import Config

__all__ = ["Config", "check_config", "check_file", "load_config", "validate_config"]
