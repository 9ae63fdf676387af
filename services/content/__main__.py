from services.runtime.server import run
from services.content.service import DEFINITION

run(DEFINITION)
