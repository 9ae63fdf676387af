from services.runtime.server import run
from services.extraction.service import DEFINITION

run(DEFINITION)
