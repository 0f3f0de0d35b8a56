"""Scripted model replies: a tool call in the OpenAI shape."""

from __future__ import annotations

import json
from typing import Any


def call(name: str, args: dict[str, Any], call_id: str = "call_1") -> dict[str, Any]:
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}
