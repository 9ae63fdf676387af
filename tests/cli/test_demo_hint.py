"""`troupe demo` on the embedded model says, in one line, that the model is tiny and how to use a real one."""

from services.cli.local_mesh import EMBEDDED_MODEL_HINT


def test_the_hint_is_one_line_naming_the_setting():
    assert "\n" not in EMBEDDED_MODEL_HINT
    assert "tiny" in EMBEDDED_MODEL_HINT and "LLM_BASE_URL=" in EMBEDDED_MODEL_HINT
