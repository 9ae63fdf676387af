from services.population.service import DEFINITION
from services.runtime.server import run

run(DEFINITION)
