"""The population service."""
