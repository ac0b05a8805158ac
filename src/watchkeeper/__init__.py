"""Watchkeeper: a self-hosted on-call and incident-quality platform."""

__version__ = "0.1.0"
