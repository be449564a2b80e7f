"""Writes report.txt (UTF-8) in the encodings Notepad, WPS and Word save Chinese text in.

Run from anywhere: python tests/data/text/make_fixtures.py. The files are committed; the
tests only read them.
"""

from pathlib import Path

HERE = Path(__file__).parent
# Characters outside GBK (CJK Extensions A and B), in names as real reports have them.
GB18030_ONLY = "联系人：刘䶮、王𠮷。"


def main() -> None:
    lines = (HERE / "report.txt").read_text(encoding="utf-8").splitlines()
    text = "\r\n".join(lines) + "\r\n"  # Windows line breaks, as Notepad saves them
    extended = "\r\n".join([*lines, GB18030_ONLY]) + "\r\n"
    (HERE / "report-gbk.txt").write_bytes(text.encode("gbk"))
    (HERE / "report-gb18030.txt").write_bytes(extended.encode("gb18030"))
    (HERE / "report-utf8-bom.txt").write_bytes(text.encode("utf-8-sig"))
    (HERE / "report-utf16le-bom.txt").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    (HERE / "report-utf16be-bom.txt").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))


if __name__ == "__main__":
    main()
