"""The Gemma 3 chat format that keeps system prompts, for llama.cpp's server and llama-cpp-python's.

The GGUF of Gemma 3 270M carries no chat template, so a server would fall back to another model's
format, and llama-cpp-python's own `gemma` format drops system messages (where the persona lives).
The format here follows Gemma 3's published template: system text opens the next user turn.
`gemma3_prompt` is its definition; `GEMMA3_CHAT_TEMPLATE` is the same as a Jinja template for
llama.cpp's `llama-server --jinja --chat-template`. Run as `python -m services.llm.llama_server
--chat_format gemma3 ...` (the arguments of `python -m llama_cpp.server`), it serves the model with
llama-cpp-python, the fallback where llama.cpp's server is not built; `services.llm.embedded` starts
whichever is there.
"""

from __future__ import annotations

from typing import Any

CHAT_FORMAT = "gemma3"


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def gemma3_prompt(messages: list[dict[str, Any]]) -> str:
    """The Gemma 3 prompt for chat `messages`, ending with the opening of the model's turn."""
    turns: list[tuple[str, str]] = []
    pending_system: list[str] = []
    for message in messages:
        role, text = message["role"], _text(message.get("content")).strip()
        if role in ("system", "developer"):
            pending_system.append(text)
            continue
        role = "model" if role == "assistant" else "user"
        if pending_system and role == "user":
            text = "\n\n".join([*pending_system, text])
            pending_system = []
        elif pending_system:
            turns.append(("user", "\n\n".join(pending_system)))
            pending_system = []
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n\n{text}")
        else:
            turns.append((role, text))
    if pending_system:
        turns.append(("user", "\n\n".join(pending_system)))
    body = "".join(f"<start_of_turn>{role}\n{text}<end_of_turn>\n" for role, text in turns)
    return f"{body}<start_of_turn>model\n"


_GEMMA3_TURN = "'<start_of_turn>' ~ ns.role ~ '\\n' ~ ns.text ~ '<end_of_turn>\\n'"
_GEMMA3_HELD_SYSTEM_AS_USER_TURN = (
    "{%- if ns.role -%}{{ " + _GEMMA3_TURN + " }}{%- endif -%}"
    "{%- set ns.role = 'user' -%}{%- set ns.text = ns.system -%}"
    "{%- set ns.held = false -%}{%- set ns.system = '' -%}"
)
"""System text with no user message to open: a user turn of its own."""

GEMMA3_CHAT_TEMPLATE = (
    "{%- set ns = namespace(role='', text='', system='', held=false) -%}"
    "{%- for message in messages -%}"
    "{%- if message['content'] is string -%}{%- set content = message['content'] | trim -%}"
    "{%- elif message['content'] -%}{%- set parts = namespace(text='') -%}"
    "{%- for part in message['content'] -%}{%- if part['text'] is defined -%}"
    "{%- set parts.text = parts.text ~ part['text'] -%}{%- endif -%}{%- endfor -%}"
    "{%- set content = parts.text | trim -%}"
    "{%- else -%}{%- set content = '' -%}{%- endif -%}"
    "{%- if message['role'] in ['system', 'developer'] -%}"
    "{%- set ns.system = (ns.system ~ '\\n\\n' ~ content) if ns.held else content -%}{%- set ns.held = true -%}"
    "{%- else -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else 'user' -%}"
    "{%- set text = content -%}"
    "{%- if ns.held and role == 'user' -%}"
    "{%- set text = ns.system ~ '\\n\\n' ~ text -%}{%- set ns.held = false -%}{%- set ns.system = '' -%}"
    "{%- elif ns.held -%}" + _GEMMA3_HELD_SYSTEM_AS_USER_TURN + "{%- endif -%}"
    "{%- if ns.role == role -%}{%- set ns.text = ns.text ~ '\\n\\n' ~ text -%}"
    "{%- else -%}{%- if ns.role -%}{{ " + _GEMMA3_TURN + " }}{%- endif -%}"
    "{%- set ns.role = role -%}{%- set ns.text = text -%}{%- endif -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if ns.held -%}" + _GEMMA3_HELD_SYSTEM_AS_USER_TURN + "{%- endif -%}"
    "{%- if ns.role -%}{{ " + _GEMMA3_TURN + " }}{%- endif -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)
"""`gemma3_prompt` as a Jinja template (llama.cpp's server renders it and adds the BOS token itself)."""


def register_gemma3_chat_format() -> None:
    """Registers `gemma3` with llama-cpp-python (idempotent)."""
    from llama_cpp import llama_chat_format

    def format_gemma3(messages: list[Any], **_: Any) -> llama_chat_format.ChatFormatterResponse:
        return llama_chat_format.ChatFormatterResponse(prompt=gemma3_prompt(messages), stop=["<end_of_turn>"])

    llama_chat_format.LlamaChatCompletionHandlerRegistry().register_chat_completion_handler(
        CHAT_FORMAT,
        llama_chat_format.chat_formatter_to_chat_completion_handler(format_gemma3),
        overwrite=True,
    )


def main() -> None:
    register_gemma3_chat_format()
    from llama_cpp.server.__main__ import main as llama_server_main

    llama_server_main()


if __name__ == "__main__":
    main()
