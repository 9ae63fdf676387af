from services.content.service import DEFINITION
from services.runtime.server import run

run(DEFINITION)
