#!/usr/bin/env python3
"""Tesseract character error rate of t2vid's default frames, per script, and of code in preserve mode.

Each corpus is cut into contexts, rendered by `t2vid synth` at its defaults
(whitespace `lines`, the system sans font with fallback; code with
`--whitespace preserve`) and read back by `t2vid verify --ocr`'s machinery
with the Tesseract language named below. For code it also checks indentation:
the first word of every OCR line must start at the column its source line is
indented to (continuation lines start after the mark, column 0).

Corpora come from the machine: man pages translated to Chinese, Japanese,
Korean and Russian (manpages-zh, manpages-ja, ... as Debian installs them,
rendered by groff; for Chinese, Korean and Russian only the lines that are
mostly in that script, as the pages keep English option names and some
untranslated paragraphs; whole Chinese pages make the mixed zh/en corpus), the Apache and GPL licence texts, Python's standard library for
code, and a short Arabic text written for this script. Tesseract needs its
language data: apt-get install tesseract-ocr-eng tesseract-ocr-chi-sim
tesseract-ocr-jpn tesseract-ocr-kor tesseract-ocr-rus tesseract-ocr-ara.

    python scripts/measure_documents.py            # every corpus, ~24 frames each
    python scripts/measure_documents.py --only zh code --frames 40
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ARABIC = (
    "الورق من أهم الاختراعات في تاريخ البشر. قبل الورق كان الناس يكتبون على الحجارة والطين وجلود الحيوانات وأوراق البردي. "
    "في القرن الثاني الميلادي حسّن الصينيون صناعة الورق من لحاء الشجر والخرق البالية، ثم انتقلت هذه الصناعة إلى سمرقند "
    "وبغداد بعد عام 751. أنشئ في بغداد أول مصنع للورق في العالم الإسلامي، وانتشرت بعد ذلك الوراقة في دمشق والقاهرة وقرطبة. "
    "ساعد الورق الرخيص على نسخ الكتب وتداولها، فازدهرت المكتبات وحلقات العلم، وترجمت كتب الطب والفلك والرياضيات من اليونانية "
    "والفارسية والهندية إلى العربية. وفي القرن الخامس عشر اخترع غوتنبرغ في ألمانيا الطباعة بالحروف المتحركة، فصار إنتاج الكتاب "
    "أسرع وأقل كلفة. واليوم ما زلنا نستخدم الورق في المدارس والمكاتب رغم انتشار الشاشات، ويقدّر إنتاج العالم منه بأكثر من 400 "
    "مليون طن في السنة.\n\n"
    "تتكون صفحة الكتاب من سطور، والسطر من كلمات، والكلمة من حروف يتصل بعضها ببعض. تكتب العربية من اليمين إلى اليسار، أما "
    "الأرقام فتقرأ من اليسار إلى اليمين، فإذا كتبنا أن المكتبة تضم 12500 كتاب و 320 مخطوطة فإن القارئ يقرأ العدد كما هو. ولكل "
    "حرف عربي أشكال مختلفة بحسب موقعه في الكلمة: في أولها أو وسطها أو آخرها أو منفردا. لذلك تحتاج برامج العرض إلى محرك تشكيل "
    "يختار الشكل الصحيح لكل حرف، وإلى خوارزمية ثنائية الاتجاه تضع علامات الترقيم والأرقام والكلمات اللاتينية مثل Unicode "
    "و HarfBuzz في أماكنها الصحيحة.\n"
)
CORPORA = {  # name: (Tesseract language, whitespace mode)
    "en": ("eng", None),
    "zh": ("chi_sim", None),
    "zh+en": ("chi_sim+eng", None),
    "ja": ("jpn", None),
    "ko": ("kor", None),
    "ru": ("rus", None),
    "ar": ("ara", None),
    "code": ("eng", "preserve"),
}
CONTEXT_CHARS = {"en": 6000, "zh": 2500, "zh+en": 3000, "ja": 2500, "ko": 2500, "ru": 5000, "ar": 6000, "code": 5000}


def man_text(language: str, pages: int = 40) -> list[str]:
    """The first man pages installed in `language`, as plain text (groff, no pager), one string per page."""
    out = []
    for path in sorted(glob.glob(f"/usr/share/man/{language}/man*/*.gz"))[:pages]:
        try:
            source = subprocess.run(["zcat", path], capture_output=True, timeout=30).stdout
            done = subprocess.run(["groff", "-k", "-man", "-Tutf8", "-P-cbou", "-rLL=78n"], input=source, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            continue
        text = done.stdout.decode("utf-8", "replace")
        if text.strip():
            out.append(text)
    return out


SCRIPT_LETTERS = {"zh": ("\u3400", "\u9fff"), "ko": ("\uac00", "\ud7af"), "ru": ("\u0400", "\u04ff")}


def mostly(line: str, script: str) -> bool:
    """A line of at least 8 letters, 90% of them in the script (translated man pages keep English option names)."""
    low, high = SCRIPT_LETTERS[script]
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 8 and sum(1 for c in letters if low <= c <= high) >= 0.9 * len(letters)


def corpus(name: str) -> str:
    if name == "en":
        return "\n".join(Path(f"/usr/share/common-licenses/{n}").read_text() for n in ("Apache-2.0", "GPL-3"))
    if name in ("zh", "ko", "ru"):
        return "\n".join(line.strip() for page in man_text("zh_CN" if name == "zh" else name) for line in page.splitlines() if mostly(line, name))
    if name == "zh+en":
        return "\n".join(man_text("zh_CN"))
    if name == "ja":
        return "\n".join(man_text(name))
    if name == "ar":
        return ARABIC * 4
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return "\n".join((stdlib / name).read_text() for name in ("textwrap.py", "shlex.py", "fnmatch.py"))


def contexts(text: str, size: int, count: int) -> list[str]:
    """`count` pieces of about `size` characters, cut at line ends, spread over the corpus."""
    lines = text.splitlines()
    step = max(1, len(lines) // max(1, count))
    out = []
    for start in range(0, len(lines), step):
        piece, n = [], 0
        for line in lines[start:]:
            piece.append(line)
            n += len(line) + 1
            if n >= size:
                break
        out.append("\n".join(piece).strip("\n"))
        if len(out) == count:
            break
    return out


def indentation_match(out: Path, contexts_: list[str]) -> tuple[int, int]:
    """Source lines whose OCR'd first word starts at the column of their indentation, out of those compared.

    The frames are laid out again (layout is deterministic) to know where each
    drawn line is and whether it starts a source line; the OCR line is the one
    whose words sit on the same baseline.
    """
    from t2vid.layout import Layouter
    from t2vid.render import Renderer
    from t2vid.segment import segment
    from t2vid.style import RenderStyle

    manifest = json.loads((out / "manifest.json").read_text())
    style = RenderStyle(**manifest["config"]["style"])
    layouter, renderer = Layouter(style), Renderer(style)
    cell = layouter.measurer.space
    matched = compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for context in contexts_:
            for frame in segment(context, layouter, manifest["config"]["segmenter"], manifest["config"]["words_per_frame"]).frames:
                path = Path(tmp) / "frame.png"
                renderer.draw(frame).save(path)
                tsv = subprocess.run(["tesseract", str(path), "stdout", "-l", "eng", "--psm", "6", "tsv"], capture_output=True, text=True, env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout
                words = [row.split("\t") for row in tsv.splitlines()[1:]]
                words = [(int(w[6]), int(w[7]) + int(w[9])) for w in words if len(w) == 12 and w[0] == "5" and w[11].strip()]  # left, bottom
                for line in frame.lines:
                    if line.continued:
                        continue
                    baseline = line.units[0].baseline
                    on_line = [left for left, bottom in words if abs(bottom - baseline) <= style.font_size // 3]
                    compared += 1
                    matched += bool(on_line) and round((min(on_line) - style.margin) / cell) == line.units[0].x // cell
    return matched, compared


def measure(name: str, frames: int, workdir: Path) -> dict:
    from t2vid.config import build_config
    from t2vid.inspect.verify import verify_ocr
    from t2vid.run import synth

    lang, whitespace = CORPORA[name]
    text = corpus(name)
    if not text.strip():
        return {"corpus": name, "error": "corpus not installed on this machine"}
    pieces = contexts(text, CONTEXT_CHARS[name], 12)
    records = [{"context": c, "question": "What does the text say?", "answer": "It says what it says."} for c in pieces]
    source = workdir / f"{name}.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = workdir / f"out-{name}"
    settings = {"sources": (str(source),), "output": str(out), "quiet": True, "workers": 2, "min_context_words": 0}
    if whitespace:
        settings["whitespace"] = whitespace
    synth(build_config(settings))
    report = verify_ocr(out, sample=frames, seed=0, lang=lang, workers=2)
    score = report.scores()["overall"]
    result = {"corpus": name, "lang": lang, "frames": score.frames, "chars": score.chars, "errors": score.errors, "cer": round(score.cer, 5)}
    if whitespace == "preserve":
        matched, compared = indentation_match(out, pieces[:2])
        result["source_lines_at_their_indentation"] = f"{matched}/{compared}"
    worst = report.worst(1)
    if worst:
        result["worst_frame"] = f"{worst[0].path} CER {worst[0].cer:.2%}"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CORPORA), help="corpora to measure (default: all)")
    parser.add_argument("--frames", type=int, default=24, help="frames read back per corpus (default 24)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the rendered outputs in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="t2vid-documents-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for name in args.only or CORPORA:
            print(json.dumps(measure(name, args.frames, workdir), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
