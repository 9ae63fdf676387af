"""The shared server runtime of all six services: config, bootstrap, health, reflection, logging,
metrics, error mapping, client channels and shutdown."""
