"""收文登记 into the register: a file or pasted text read by `registration`, stored as an incoming
document (direction 'in', status 'registered') with its file, audited. One function for the CLI,
the API and the agent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from aicity.agents.office import documents
from aicity.agents.office.models import OfficeDocument
from aicity.agents.office.registration import Registration, RegistrationError, register_bytes, register_text
from aicity.core.config import settings
from aicity.core.errors import forbidden
from aicity.identity.service import Principal


@dataclass(frozen=True)
class Registered:
    registration: Registration
    document: OfficeDocument


def register(*, principal: Principal, file_name: str | None = None, data: bytes | None = None,
             text: str | None = None) -> Registered:
    """Register one incoming document (a file, or pasted text). `RegistrationError` for input that is
    no document; staff only (the register refuses anyone else before anything is read)."""
    if not principal.is_staff:
        raise forbidden("收文登记只对工作人员开放 registering documents is for staff only")
    if (data is None) == (text is None):
        raise RegistrationError("invalid", "请给出一个文件或一段文字（二者选一）give a file or a text")
    if data is not None:
        name = PurePath(file_name or "document").name
        if len(data) > settings().max_upload_bytes:
            raise RegistrationError("too-large", f"「{name}」超过 {settings().max_upload_bytes} 字节，无法登记")
        reg = register_bytes(name, data)
    else:
        name = None
        reg = register_text(text or "")
    # a 令 has no title: the register names it by its mark and number
    title = reg.title or "".join(x for x in (reg.issuer[0] if reg.issuer else "", "令" if reg.kind == "命令（令）" else "",
                                            f"（{reg.doc_number}）" if reg.doc_number else "") if x) or "（无标题）"
    fields = {**reg.fields(), "title": title, "status": "registered",
              "extra": {"source": "registration", "notes": reg.notes}}
    doc = documents.record_document(None, direction="in", fields=fields, text=reg.text, file_bytes=data,
                                    file_name=name, principal=principal)
    return Registered(reg, doc)
