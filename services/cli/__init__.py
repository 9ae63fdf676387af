"""`troupe`, the command line of the mesh: start it, run studies, look at sessions and checkpoints."""
