"""What the worst uploads cost the import: generated hostile files, each within the upload limits.

Run: .venv/bin/python bench/import_adversarial.py [--repeat N] [--only NAME …] — builds every
file (at most MAX_UPLOAD_BYTES as uploaded, at most MAX_DOCX_UNPACKED_BYTES unpacked), then
imports each in a fresh Python process (N times, default 3) and prints the outcome, the time
import_file() took (median and worst) and the process's peak RSS (worst; the interpreter and
the app's imports included; the baseline is printed once). The median CPU time is shown too:
on a shared machine it varies less than the wall time. Target: every file ≤ 2 s and ≤ 200 MB.
For files the import accepts, the time of the checks the preview then runs is shown.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.documents.importing import MAX_DOCX_UNPACKED_BYTES, MAX_UPLOAD_BYTES  # noqa: E402

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# Room left for the package's other parts, so that a filled part keeps the total under the limit.
FILL = MAX_DOCX_UNPACKED_BYTES - 64 * 1024
SENTENCE = "坚持把理论学习、调查研究、推动发展、检视整改贯通起来，推动各项工作落地见效。"

CHILD = r"""
import json, sys, time
from app.documents.checks import check
from app.documents.importing import ImportRefused, import_file
name, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
def high_water_mark():  # VmHWM, in MB: ru_maxrss would carry the parent's over exec()
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
baseline = high_water_mark()
start, cpu = time.perf_counter(), time.process_time()
try:
    result = import_file(name, data)
except ImportRefused as refused:
    outcome, checks = "refused: " + refused.message, None
else:
    outcome = f"accepted: {len(result.text):,} characters, {result.text.count(chr(10)) + 1:,} lines"
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    check(result.text)
    checks = time.perf_counter() - start - seconds
if checks is None:
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"outcome": outcome, "seconds": seconds, "cpu": cpu_seconds, "checks": checks,
                  "baseline": baseline, "peak": high_water_mark()}))
"""


# --- building files ---------------------------------------------------------------------------


def package(
    body: bytes = b"",
    *,
    document: bytes | None = None,
    styles: bytes | None = None,
    numbering: bytes | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A .docx with this w:body content (or whole document.xml) and optional parts."""
    if document is None:
        document = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{W}" xmlns:r="{RELS}"><w:body>'.encode()
            + body
            + b"</w:body></w:document>"
        )
    parts = {"word/document.xml": document}
    relationships = []
    if styles is not None:
        parts["word/styles.xml"] = styles
        relationships.append(("styles", "styles.xml"))
    if numbering is not None:
        parts["word/numbering.xml"] = numbering
        relationships.append(("numbering", "numbering.xml"))
    parts.update(extra or {})
    overrides = "".join(
        f'<Override PartName="/word/{target}" ContentType="application/xml"/>'
        for _, target in relationships
    )
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{DOCUMENT_MAIN}"/>{overrides}</Types>'
    ).encode()
    parts["_rels/.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="word/document.xml"/>'
        "</Relationships>"
    ).encode()
    parts["word/_rels/document.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{RELS}/{kind}" Target="{target}"/>'
            for i, (kind, target) in enumerate(relationships, 2)
        )
        + "</Relationships>"
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def repeated(unit: str, size: int = FILL, *, head: str = "", tail: str = "") -> bytes:
    """``unit`` repeated to fill ``size`` bytes of UTF-8 between head and tail."""
    encoded = unit.encode()
    room = size - len(head.encode()) - len(tail.encode()) - 200
    return head.encode() + encoded * (room // len(encoded)) + tail.encode()


def run(text: str, props: str = "") -> str:
    return f'<w:r>{props}<w:t xml:space="preserve">{text}</w:t></w:r>'


def word_like_paragraph(index: int, chars: str) -> str:
    """A paragraph as Word and WPS write them: rsids, paragraph and run properties per run."""
    rpr = (
        '<w:rPr><w:rFonts w:ascii="仿宋_GB2312" w:eastAsia="仿宋_GB2312" w:hAnsi="仿宋_GB2312" '
        'w:hint="eastAsia"/><w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:val="en-US" '
        'w:eastAsia="zh-CN"/></w:rPr>'
    )
    runs = "".join(
        f'<w:r w:rsidRPr="00A1{index % 97:02d}B2">{rpr}<w:t>{chars[i : i + 10]}</w:t></w:r>'
        for i in range(0, len(chars), 10)
    )
    return (
        f'<w:p w:rsidR="00C4{index % 89:02d}1A" w:rsidRDefault="00C41B2A" w:rsidP="00D1E2F3">'
        '<w:pPr><w:spacing w:line="560" w:lineRule="exact"/><w:ind w:firstLineChars="200" '
        'w:firstLine="640"/><w:jc w:val="both"/><w:rPr><w:rFonts w:ascii="仿宋_GB2312" '
        'w:eastAsia="仿宋_GB2312"/><w:sz w:val="32"/></w:rPr></w:pPr>'
        f'<w:proofErr w:type="spellStart"/>{runs}<w:proofErr w:type="spellEnd"/>'
        f'<w:bookmarkStart w:id="{index}" w:name="_Toc{index}"/><w:bookmarkEnd w:id="{index}"/></w:p>'
    )


def realistic_maximum() -> bytes:
    """A report just under the saving limits, written as verbosely as Word and WPS do."""
    paragraphs, length = [], 0
    while length + len(SENTENCE) * 2 + 1 < 199_000:
        paragraphs.append(word_like_paragraph(len(paragraphs), SENTENCE * 2))
        length += len(SENTENCE) * 2 + 1
    return package("".join(paragraphs).encode())


def many_short_lines() -> bytes:
    lines = "".join(f"<w:p>{run(f'第{i}项')}</w:p>" for i in range(9_990))
    return package(lines.encode())


def numbered_list(count: int) -> bytes:
    return (
        f'<w:numbering xmlns:w="{W}"><w:abstractNum w:abstractNumId="1">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        '<w:lvlText w:val="%1、"/></w:lvl></w:abstractNum>'
        + "".join(
            f'<w:num w:numId="{i}"><w:abstractNumId w:val="1"/></w:num>'
            for i in range(1, count + 1)
        )
        + "</w:numbering>"
    ).encode()


NUMBERED = '<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr></w:p>'


def long_style_chain() -> bytes:
    count = 45_000  # two kept elements each: within MAX_KEPT_ELEMENTS
    styles = (
        f'<w:styles xmlns:w="{W}">'
        '<w:style w:type="paragraph" w:styleId="s0"><w:pPr><w:numPr><w:numId w:val="1"/>'
        "</w:numPr></w:pPr></w:style>"
        + "".join(
            f'<w:style w:type="paragraph" w:styleId="s{i}"><w:basedOn w:val="s{i - 1}"/></w:style>'
            for i in range(1, count)
        )
        + "</w:styles>"
    ).encode()
    body = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="s{count - 1 - i}"/></w:pPr>{run("要点")}</w:p>'
        for i in range(5_000)
    )
    return package(body.encode(), styles=styles, numbering=numbered_list(1))


def long_numbering_chain() -> bytes:
    """w:numStyleLink chains: each list defined through the one before it."""
    count = 11_000  # eight kept elements each: within MAX_KEPT_ELEMENTS
    abstracts = "".join(
        f'<w:abstractNum w:abstractNumId="{i}"><w:numStyleLink w:val="L{i - 1}"/></w:abstractNum>'
        if i
        else '<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        '<w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl></w:abstractNum>'
        for i in range(count)
    )
    nums = "".join(
        f'<w:num w:numId="{i}"><w:abstractNumId w:val="{i}"/></w:num>' for i in range(count)
    )
    styles = "".join(
        f'<w:style w:type="numbering" w:styleId="L{i}"><w:pPr><w:numPr><w:numId w:val="{i}"/>'
        "</w:numPr></w:pPr></w:style>"
        for i in range(count)
    )
    body = "".join(
        f'<w:p><w:pPr><w:numPr><w:numId w:val="{count - 1 - i}"/></w:numPr></w:pPr>{run("事项")}</w:p>'
        for i in range(5_000)
    )
    return package(
        body.encode(),
        styles=f'<w:styles xmlns:w="{W}">{styles}</w:styles>'.encode(),
        numbering=f'<w:numbering xmlns:w="{W}">{abstracts}{nums}</w:numbering>'.encode(),
    )


def huge_level_text() -> bytes:
    numbering = (
        f'<w:numbering xmlns:w="{W}"><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0">'
        f'<w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="{"%1" * 4_000_000}"/>'
        '</w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num></w:numbering>'
    ).encode()
    numbered_with_text = NUMBERED.replace("</w:pPr></w:p>", f"</w:pPr>{run('事项')}</w:p>")
    return package((numbered_with_text * 9_000).encode(), numbering=numbering)


def nested_tables(depth: int, copies: int) -> bytes:
    nested = (
        "<w:tbl><w:tr><w:tc>" * depth + f"<w:p>{run('格')}</w:p>" + "</w:tc></w:tr></w:tbl>" * depth
    )
    return package((nested * copies).encode())


def deep_nesting() -> bytes:
    """Content controls nested 250 deep (libxml2 refuses past 256 without huge_tree)."""
    unit = "<w:sdt><w:sdtContent>" * 125 + "<w:p/>" + "</w:sdtContent></w:sdt>" * 125
    return package(repeated(unit, FILL - 200))


def too_deep() -> bytes:
    return package(("<w:sdt><w:sdtContent>" * 2_000 + "</w:sdtContent></w:sdt>" * 2_000).encode())


def entity_bomb() -> bytes:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "汇报"}">' for i in range(10))
    document = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        f'<w:document xmlns:w="{W}"><w:body><w:p>{run("&e9;")}</w:p></w:body></w:document>'
    ).encode()
    return package(document=document)


def one_tag_many_attributes() -> bytes:
    attributes = " ".join(f'a{i}=""' for i in range(1_400_000))
    return package(f"<w:p {attributes}/>".encode())


def many_attributes() -> bytes:
    attributes = " ".join(f'a{i}=""' for i in range(999))
    return package(repeated(f"<w:p {attributes}/>"))


def many_namespaces() -> bytes:
    declarations = " ".join(f'xmlns:n{i}="urn:{i}"' for i in range(999))
    return package(repeated(f"<w:p {declarations}/>"))


def long_attribute_values() -> bytes:
    value = "字" * 3_000_000  # 9 MB: libxml2's limit for one value is 10 MB without huge_tree
    return package(f'<w:p w:rsidR="{value}"/>'.encode() * 5)


def long_names() -> bytes:
    return package(repeated(f"<w:{'x' * 49_000}/>"))


def zip_with_many_members() -> bytes:
    buffer = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(package(f"<w:p>{run(SENTENCE)}</w:p>".encode())))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for info in base.infolist():
            archive.writestr(info.filename, base.read(info.filename))
        # A local header (30 bytes) and a directory entry (46) per member, each with its name.
        for count in range((MAX_UPLOAD_BYTES - 300_000) // (76 + 2 * 7)):
            archive.writestr(f"m/{count:05}", b"")
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w", force_zip64=True) as member,
    ):
        chunk = bytes(1024 * 1024)
        for _ in range(MAX_DOCX_UNPACKED_BYTES // len(chunk) + 1):
            member.write(chunk)
    return buffer.getvalue()


def big_unread_parts() -> bytes:
    """Headers, footers and comments full of paragraphs: never read, only counted as unpacked."""
    parts = FILL // 3
    header = repeated(
        f"<w:p>{run('页眉')}</w:p>", parts, head=f'<w:hdr xmlns:w="{W}">', tail="</w:hdr>"
    )
    return package(
        f"<w:p>{run(SENTENCE)}</w:p>".encode(),
        extra={
            "word/header1.xml": header,
            "word/footer1.xml": header.replace(b"w:hdr", b"w:ftr"),
            "word/comments.xml": header.replace(b"w:hdr", b"w:comments"),
        },
    )


def txt_repeated(line: str, encoding: str = "utf-8") -> bytes:
    unit = line.encode(encoding)
    return unit * ((MAX_UPLOAD_BYTES - 16) // len(unit))


DOCX_CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "realistic-maximum": (
        "a report just under 200,000 characters, Word-style markup",
        realistic_maximum,
    ),
    "short-lines": ("9,990 short paragraphs (under the paragraph limit)", many_short_lines),
    "tiny-paragraphs": (
        "the reported file: 1.4 million one-character paragraphs",
        lambda: package(repeated("<w:p><w:r><w:t>字</w:t></w:r></w:p>")),
    ),
    "empty-paragraphs": ("50 MB of empty paragraphs <w:p/>", lambda: package(repeated("<w:p/>"))),
    "styled-empty-paragraphs": (
        "50 MB of empty paragraphs with a style",
        lambda: package(repeated('<w:p><w:pPr><w:pStyle w:val="a"/></w:pPr></w:p>')),
    ),
    "numbered-empty-paragraphs": (
        "50 MB of empty numbered paragraphs (Word counts them)",
        lambda: package(repeated(NUMBERED), numbering=numbered_list(1)),
    ),
    "one-giant-paragraph": (
        "one paragraph of 1-character runs",
        lambda: package(repeated(run("字"), head="<w:p>", tail="</w:p>")),
    ),
    "giant-text-node": (
        "one w:t of 3 million characters",
        lambda: package(f"<w:p>{run('字' * 3_000_000)}</w:p>".encode()),
    ),
    "space-paragraph": (
        "one paragraph of 9 MB of spaces between two characters",
        lambda: package(f"<w:p>{run('甲' + ' ' * 9_000_000 + '乙')}</w:p>".encode()),
    ),
    "hidden-text": (
        "50 MB of hidden text in 400,000-character paragraphs",
        lambda: package(
            repeated(f"<w:p>{run('字' * 399_000, '<w:rPr><w:vanish/></w:rPr>')}</w:p>")
        ),
    ),
    "empty-runs": (
        "one paragraph of empty runs",
        lambda: package(repeated("<w:r/>", head="<w:p>", tail="</w:p>")),
    ),
    "unread-elements": (
        "50 MB of elements the import skips (bookmarks)",
        lambda: package(repeated('<w:bookmarkStart w:id="1" w:name="a"/>')),
    ),
    "xml-comments": (
        "50 MB of XML comments in the body",
        lambda: package(repeated("<!-- 注释 -->")),
    ),
    "deep-nesting": ("content controls nested 250 deep, repeated", deep_nesting),
    "too-deep": ("content controls nested 2,000 deep", too_deep),
    "nested-tables": ("tables nested 60 deep, repeated", lambda: nested_tables(60, 2_000)),
    "empty-cells": (
        "one table of empty cells",
        lambda: package(repeated("<w:tc/>", head="<w:tbl><w:tr>", tail="</w:tr></w:tbl>")),
    ),
    "one-character-cells": (
        "one table row of one-character cells",
        lambda: package(
            repeated(
                f"<w:tc><w:p>{run('格')}</w:p></w:tc>", head="<w:tbl><w:tr>", tail="</w:tr></w:tbl>"
            )
        ),
    ),
    "table-rows": (
        "a table of 900,000 one-cell rows",
        lambda: package(
            repeated(
                "<w:tr><w:tc><w:p><w:r><w:t>行</w:t></w:r></w:p></w:tc></w:tr>",
                head="<w:tbl>",
                tail="</w:tbl>",
            )
        ),
    ),
    "huge-numbering": (
        "50 MB of list definitions (numbering.xml)",
        lambda: package(
            f"<w:p>{run(SENTENCE)}</w:p>".encode(),
            numbering=repeated(
                '<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
                '<w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl></w:abstractNum>',
                head=f'<w:numbering xmlns:w="{W}">',
                tail="</w:numbering>",
            ),
        ),
    ),
    "huge-styles": (
        "50 MB of styles (styles.xml)",
        lambda: package(
            f"<w:p>{run(SENTENCE)}</w:p>".encode(),
            styles=repeated(
                '<w:style w:type="paragraph" w:styleId="a"><w:name w:val="a"/>'
                '<w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>',
                head=f'<w:styles xmlns:w="{W}">',
                tail="</w:styles>",
            ),
        ),
    ),
    "style-chain": ("45,000 styles each based on the one before", long_style_chain),
    "numbering-chain": ("11,000 lists each linked to the one before", long_numbering_chain),
    "long-level-text": ("a list level text of 8 million characters", huge_level_text),
    "entity-bomb": ("billion laughs in a DOCTYPE", entity_bomb),
    "one-tag-attributes": ("one tag with 1.4 million attributes", one_tag_many_attributes),
    "many-attributes": ("50 MB of tags with 999 attributes each", many_attributes),
    "many-namespaces": ("50 MB of tags with 999 namespace declarations each", many_namespaces),
    "long-attribute-values": ("five 9 MB attribute values", long_attribute_values),
    "long-names": ("50 MB of 49,000-character element names", long_names),
    "zip-members": ("a zip of ~60,000 empty members", zip_with_many_members),
    "zip-bomb": ("one member declared over 50 MB", zip_bomb),
    "unread-parts": ("headers, footers, comments of 16 MB each", big_unread_parts),
}
TXT_CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "txt-blank-lines": ("5 MB of line breaks", lambda: txt_repeated("\n")),
    "txt-space-lines": ("5 MB of lines of spaces", lambda: txt_repeated(" \r\n")),
    "txt-short-lines": ("2.5 million one-character lines", lambda: txt_repeated("a\n")),
    "txt-one-line": ("one 5 MB line", lambda: txt_repeated("字", "utf-8")),
    "txt-gb18030": (
        "5 MB of GB18030 report text",
        lambda: txt_repeated(SENTENCE + "\r\n", "gb18030"),
    ),
    "txt-utf16": (
        "5 MB of UTF-16 report text",
        lambda: b"\xff\xfe" + txt_repeated(SENTENCE + "\n", "utf-16-le")[:-2],
    ),
}


def measure(name: str, path: Path) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    cases = {**DOCX_CASES, **TXT_CASES}
    worst_seconds = worst_peak = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, (description, build) in cases.items():
            if args.only and name not in args.only:
                continue
            data = build()
            filename = "汇报.txt" if name.startswith("txt-") else "汇报.docx"
            if filename.endswith(".docx") and name != "zip-bomb":
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    unpacked = sum(info.file_size for info in archive.infolist())
                assert unpacked <= MAX_DOCX_UNPACKED_BYTES, (name, unpacked)
            else:
                unpacked = len(data)
            assert len(data) <= MAX_UPLOAD_BYTES, (name, len(data))
            path = Path(folder) / name
            path.write_bytes(data)
            runs = [measure(filename, path) for _ in range(args.repeat)]
            seconds = [r["seconds"] for r in runs]
            cpu = [r["cpu"] for r in runs]
            peak = max(r["peak"] for r in runs)
            worst_seconds, worst_peak = max(worst_seconds, max(seconds)), max(worst_peak, peak)
            checks = runs[0]["checks"]
            print(
                f"{name:26} {len(data) / 1024:8,.0f} KiB → {unpacked / 2**20:5.1f} MiB  "
                f"{statistics.median(seconds) * 1000:6.0f} ms (max {max(seconds) * 1000:5.0f}, "
                f"CPU {statistics.median(cpu) * 1000:4.0f})  "
                f"peak {peak:4} MB  {runs[0]['outcome'][:60]}"
                + (f"  [checks {checks * 1000:.0f} ms]" if checks is not None else "")
                + f"\n{'':26} {description}",
                flush=True,
            )
    print(f"baseline RSS (interpreter and imports): {runs[0]['baseline']} MB")
    print(f"worst: {worst_seconds * 1000:.0f} ms, {worst_peak:.0f} MB peak RSS")


if __name__ == "__main__":
    main()
