"""The Python side of the shared contracts (`protos/tinytroupe/common/v1`) that every service checks the same way.

Resource names, the limits on what callers send, the checks of the common messages (simulation config,
stimulus, extraction config with its field hints), token-usage sums and agent helpers. Services import
this package, the runtime, the LLM layer, the engine and control's client; never another service.
"""
