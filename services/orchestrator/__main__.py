from services.runtime.server import run
from services.orchestrator.service import DEFINITION

run(DEFINITION)
