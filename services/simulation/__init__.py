"""The simulation service."""
