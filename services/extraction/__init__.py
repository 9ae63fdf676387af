"""The extraction service."""
