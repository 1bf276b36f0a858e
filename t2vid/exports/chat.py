"""Chat shapes: how trainers spell a conversation, and the media placeholders inside it.

Every reader of exported or real rows (mix, diversity) goes through these, so
a placeholder such as MiniCPM-V's `<image_00>` is recognised in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

MEDIA_TOKEN = re.compile(r"<(?:image|video)(?:_?\d+)?>\n?", re.IGNORECASE)  # <image>, <video>, MiniCPM-V's <image_00>, <image1>
CONVERSATION_KEYS = ("conversations", "messages", "conversation")


def strip_media_tokens(text: str) -> str:
    return MEDIA_TOKEN.sub("", text).strip()


def message_text(content: Any) -> str | None:
    """A message's text: a string, or the text parts of a typed-part list (Qwen); None when it has none."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part["text"] for part in content if isinstance(part, dict) and part.get("type", "text") == "text" and isinstance(part.get("text"), str)]
        return "".join(parts) if parts else None
    return None


def first_question(row: Any) -> str | None:
    """The first user message of a chat row in any trainer's spelling (from/value or role/content), placeholders removed."""
    if not isinstance(row, dict):
        return None
    for key in CONVERSATION_KEYS:
        messages = row.get(key)
        if isinstance(messages, list):
            for message in messages:
                if isinstance(message, dict) and role_of(str(message.get("from", message.get("role", ""))).lower()) == "user":
                    text = message_text(message.get("value", message.get("content")))
                    return None if text is None else strip_media_tokens(text)
    return None


def pair_turns(messages: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...] | None:
    """(role, text) messages, role normalised to user/assistant (system dropped) -> (user, assistant) pairs; None if they do not alternate."""
    chat = [(role, text) for role, text in messages if role != "system"]
    if not chat or len(chat) % 2:
        return None
    turns = []
    for (user_role, question), (assistant_role, answer) in zip(chat[::2], chat[1::2]):
        if user_role != "user" or assistant_role != "assistant":
            return None
        turns.append((strip_media_tokens(question), answer))
    return tuple(turns)


ROLE_NAMES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


def role_of(name: object) -> str:
    return ROLE_NAMES.get(str(name), "?")


@dataclass(frozen=True)
class ChatShape:
    """How a trainer spells a conversation: role and text keys, role names, plain or typed-part text.

    Every row format writes the first question after its media placeholders
    and the further turns as plain user/assistant messages, and reads them
    back the same way; this is that one loop, in each trainer's spelling.
    """

    role_key: str = "role"
    text_key: str = "content"
    user: str = "user"
    assistant: str = "assistant"
    typed_parts: bool = False  # Qwen: content is a list of {"type": "text", "text": ...} parts

    def content(self, text: str) -> Any:
        return [{"type": "text", "text": text}] if self.typed_parts else text

    def text(self, content: Any) -> str:
        if self.typed_parts:
            parts = content if isinstance(content, list) else []
            return "".join(str(part.get("text", "")) for part in parts if isinstance(part, dict) and part.get("type") == "text")
        return str(content)

    def messages(self, turns: Iterable[tuple[str, str]], media: Any = "") -> list[dict]:
        """User/assistant messages for every turn; `media` (placeholders, or Qwen's video part list) leads the first question."""
        messages = []
        for number, (question, answer) in enumerate(turns):
            asked = self.content(question)
            messages.append({self.role_key: self.user, self.text_key: (media + asked) if number == 0 else asked})
            messages.append({self.role_key: self.assistant, self.text_key: self.content(answer)})
        return messages

    def turns(self, messages: list) -> tuple[tuple[str, str], ...] | None:
        """Messages of this shape back to (user, assistant) pairs, placeholders removed; None if they do not alternate."""
        return pair_turns((role_of(m.get(self.role_key)), self.text(m.get(self.text_key, ""))) for m in messages if isinstance(m, dict))


CHAT = ChatShape()  # OpenAI-style {"role", "content"}: LLaMA-Factory, ms-swift, MiniCPM-V
SHAREGPT = ChatShape("from", "value", "human", "gpt")  # LLaVA, InternVL
QWEN_CHAT = ChatShape(typed_parts=True)
