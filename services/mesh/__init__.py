"""The local mesh: the six servers (and the embedded model) on one machine, as processes or in-process."""
