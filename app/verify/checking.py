"""The verdict on a file: genuine, altered or unknown (see docs/pdf.md, “Signed and verifiable”).

A file is **genuine** when it carries a signature by the system's certificate (its subject, its
issuer's chain) that covers the whole file and whose digest matches: the signed signature field
names the report, version and approval it was issued for. It is **altered** when our signature is
there but the bytes it covers changed, or bytes were added after it (we add none), or the file is
too damaged to read yet still holds our certificate. Anything else — unsigned, signed by someone
else, a stamped draft — is **unknown**.
"""

from __future__ import annotations

import binascii
import enum
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from app.pdf.signing import SigningKey, asn1_certificate, parse_field_name
from app.pdf.signing_imports import PdfFileReader, ValidationContext, validation
from app.pdf.signing_imports import SignatureCoverageLevel as Coverage

# A PDF starts with %PDF- within its first kilobyte (some writers put junk before it).
HEADER_WINDOW = 1024


class Verdict(enum.StrEnum):
    GENUINE = "genuine"
    ALTERED = "altered"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {
            Verdict.GENUINE: "真实有效：本系统签发的审定稿",
            Verdict.ALTERED: "文件已被改动",
            Verdict.UNKNOWN: "无法确认：不是本系统签发的审定稿",
        }[self]


class Unreadable(ValueError):
    """Not a PDF, or a PDF too broken to read that carries nothing of ours."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Signed:
    """What the signature itself says (covered by it, so trustworthy once it checks out)."""

    report_id: int
    version: int
    approval_id: int
    signed_at: datetime | None


@dataclass
class Result:
    verdict: Verdict
    reason: str
    signed: Signed | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)  # filled in by ``describe``
    notes: list[str] = field(default_factory=list)

    @property
    def genuine(self) -> bool:
        return self.verdict is Verdict.GENUINE


@dataclass(frozen=True)
class Trust:
    """Whose signatures count as ours: the signing certificate's subject, issued under the
    roots of its PKCS#12 file."""

    key: SigningKey

    @property
    def subject(self) -> bytes:
        return self.key.certificate.subject.public_bytes()

    def roots(self) -> list[asn1_x509.Certificate]:
        return [asn1_certificate(c) for c in self.key.roots]

    def others(self) -> list[asn1_x509.Certificate]:
        return [asn1_certificate(c) for c in (self.key.certificate, *self.key.chain)]

    def traces(self) -> tuple[bytes, ...]:
        """Hex spellings of our certificate, as a signature's /Contents carries it: found in a
        file that cannot be parsed any more, they show that it was ours."""
        der = self.key.certificate.public_bytes(serialization.Encoding.DER)
        part = binascii.hexlify(der[-48:])  # the signature value: unique to the certificate
        return (part.lower(), part.upper())


def check_pdf(data: bytes, trust: Trust | None) -> Result:
    """The verdict on ``data``; raises :class:`Unreadable` for what is not a PDF at all."""
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise Unreadable("这不是 PDF 文件，请上传从本系统下载的审定稿 PDF。")
    try:
        signatures = list(PdfFileReader(BytesIO(data), strict=False).embedded_signatures)
        ours = [s for s in signatures if trust is not None and _subject(s) == trust.subject]
    except Exception:  # any damage pyHanko cannot read past: see whether it was ours
        if trust is not None and _carries(data, trust):
            return Result(Verdict.ALTERED, "文件含有本系统的签名，但文件结构已被破坏。")
        raise Unreadable("文件已损坏，无法读取为 PDF。") from None
    if trust is None:
        return Result(Verdict.UNKNOWN, "本系统尚未配置签名证书，无法验证。")
    if not ours:
        if _carries(data, trust):
            return Result(Verdict.ALTERED, "文件含有本系统的签名，但签名已被破坏。")
        if signatures:
            return Result(Verdict.UNKNOWN, "文件带有电子签名，但不是本系统的签名。")
        return Result(
            Verdict.UNKNOWN,
            "文件没有本系统的电子签名（本系统签发的审定稿都带有签名，草稿不签名）。",
        )
    return _judge(ours[-1], trust, later=len(signatures) > signatures.index(ours[-1]) + 1)


def _subject(signature) -> bytes:
    return signature.signer_cert.subject.dump()


def _carries(data: bytes, trust: Trust) -> bool:
    return any(trace in data for trace in trust.traces())


def _judge(signature, trust: Trust, *, later: bool) -> Result:
    signed_at = signature.self_reported_timestamp
    # Judged at the time of signing (the file was issued then), so that the certificate's
    # later expiry does not turn issued files into unknown ones.
    context = ValidationContext(
        trust_roots=trust.roots(),
        other_certs=trust.others(),
        moment=signed_at,
        allow_fetching=False,
    )
    try:
        status = validation.validate_pdf_signature(
            signature,
            context,
            key_usage_settings=validation.KeyUsageConstraints(key_usage=set()),
            skip_diff=True,  # anything after our signature is an alteration anyway
        )
    except Exception:
        return Result(Verdict.ALTERED, "文件含有本系统的签名，但签名数据已被破坏。")
    if not status.intact:
        return Result(Verdict.ALTERED, "签名之后文件内容被改动过：签名所覆盖的内容与签发时不一致。")
    if not status.valid:
        return Result(Verdict.ALTERED, "签名值与文件内容不符，签名已被改动。")
    if not status.trusted:
        return Result(Verdict.UNKNOWN, "签名证书与本系统的证书同名，但不是本系统签发的证书。")
    if later or status.coverage is not Coverage.ENTIRE_FILE:
        return Result(
            Verdict.ALTERED, "签名之后文件又被追加修改过（签名本身完好，但文件多出了内容）。"
        )
    ids = parse_field_name(signature.field_name)
    if ids is None:
        return Result(Verdict.GENUINE, "本系统签名完好，文件未被改动。")
    return Result(
        Verdict.GENUINE,
        "本系统签名完好，文件自签发以来未被改动。",
        signed=Signed(*ids, signed_at=signed_at),
    )
