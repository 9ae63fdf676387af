"""TinyTroupe Mesh: six gRPC services, their shared runtime, the LLM layer and the persona engine."""
