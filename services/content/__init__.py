"""The content service."""
