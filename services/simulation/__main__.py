from services.runtime.server import run
from services.simulation.service import DEFINITION

run(DEFINITION)
