"""llama-cpp-python's OpenAI-compatible server with a Gemma 3 chat format that keeps system prompts.

The GGUF of Gemma 3 270M carries no chat template, so llama-cpp-python would fall back to the
Llama 2 format, and its own `gemma` format drops system messages (where the persona lives). The
`gemma3` format registered here follows Gemma 3's published template: system text opens the next
user turn. Run as `python -m services.llm.llama_server --chat_format gemma3 ...` (the arguments of
`python -m llama_cpp.server`); `services.llm.embedded` does this for you.
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
