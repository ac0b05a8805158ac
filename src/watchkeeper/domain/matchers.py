"""Label matchers (`=`, `!=`, `=~`, `!~`), parsed from text and compiled once."""
