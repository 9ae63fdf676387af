"""The persona engine: TinyTroupe persona specs, fragments, population plans and persona generation.

Pure Python and free of protos: the gRPC servicers build on these modules.
"""
