"""Experiments: arms of one design run as child studies, their typed results compared with scipy.stats."""
