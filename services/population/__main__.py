from services.runtime.server import run
from services.population.service import DEFINITION

run(DEFINITION)
