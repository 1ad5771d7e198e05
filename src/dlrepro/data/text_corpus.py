"""The word2vec corpus, built only from text that ships inside packages (no download).

* gensim's Wikipedia extract (`gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2`),
  read with `gensim.corpora.WikiCorpus` (markup removed);
* Debian's `wordnet-base` glosses (`/usr/share/wordnet/data.{noun,verb,adj,adv}`: the text
  after `| ` on each synset line, licence lines skipped, split on `;`).

Both tokenised the same way: lowercase, runs of letters a–z. One sentence per line, at most
10,000 tokens (gensim silently cuts longer lines). Or any plain-text file (`path`), tokenised
the same way, or a tiny generated corpus (`synthetic`, for smoke runs). The result is written atomically with its SHA-256 and sizes beside it.
"""
from __future__ import annotations

import re
from pathlib import Path

from dlrepro.errors import DataError
from dlrepro.io import atomic_write_text, sha256, write_json

WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
WORDNET_DIR = Path("/usr/share/wordnet")
WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
MAX_LINE_TOKENS = 10_000
_WORD = re.compile(r"[a-z]+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _wiki_tokenize(text: str, *limits) -> list[str]:
    """WikiCorpus's tokenizer_func signature (text, min_len, max_len, lower); picklable."""
    return tokenize(text)


def _chunks(tokens: list[str]):
    for start in range(0, len(tokens), MAX_LINE_TOKENS):
        yield tokens[start:start + MAX_LINE_TOKENS]


def wiki_path() -> Path:
    import importlib.util

    gensim = importlib.util.find_spec("gensim")   # located without importing gensim (slow)
    folder = Path(gensim.origin).parent if gensim and gensim.origin else Path("gensim")
    path = folder / "test" / "test_data" / WIKI_FILE
    if not path.exists():
        raise DataError(f"gensim's Wikipedia extract '{path}' is missing (word2vec_corpus source "
                        "'enwiki'): reinstall gensim (pip install -r requirements.txt)")
    return path


def wiki_sentences():
    from gensim.corpora import WikiCorpus

    path = wiki_path()
    wiki = WikiCorpus(str(path), dictionary={}, processes=1,
                      tokenizer_func=_wiki_tokenize)
    for article in wiki.get_texts():
        yield from _chunks(article)


def check_wordnet(folder: str | Path) -> None:
    folder = Path(folder)
    missing = [name for name in WORDNET_FILES if not (folder / name).is_file()]
    if missing:
        raise DataError(f"WordNet glosses missing in '{folder}' ({', '.join(missing)}; config key "
                        "'word2vec_corpus/wordnet_dir'): apt-get install -y wordnet-base")


def wordnet_sentences(folder: str | Path = WORDNET_DIR):
    folder = Path(folder)
    check_wordnet(folder)
    for name in WORDNET_FILES:
        with open(folder / name, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("  ") or " | " not in line:   # licence header
                    continue
                for part in line.split(" | ", 1)[1].split(";"):
                    tokens = tokenize(part)
                    if tokens:
                        yield tokens


def check_text_file(path: str | Path | None) -> None:
    """The 'file' source: a readable file with at least one word in its first megabyte."""
    if not path:
        raise DataError("word2vec_corpus source 'file' needs config key 'word2vec_corpus/path' "
                        "(a plain-text file)")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"corpus file '{path}' does not exist (config key 'word2vec_corpus/path')")
    with open(path, encoding="utf-8", errors="replace") as handle:
        if not _WORD.search(handle.read(1 << 20).lower()):
            raise DataError(f"corpus file '{path}' holds no words (letters a-z) "
                            "(config key 'word2vec_corpus/path')")


def text_file_sentences(path: str | Path):
    check_text_file(path)
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            yield from _chunks(tokenize(line))


def synthetic_sentences(sentences: int = 4000, seed: int = 0):
    """A tiny generated corpus for smoke runs: words of one group share their contexts, so a
    working word2vec puts them close together (the evaluation sets' words appear too)."""
    import random

    groups = [["king", "queen", "prince", "princess"], ["cat", "dog", "tiger", "lion"],
              ["car", "train", "plane", "ship"], ["money", "cash", "bank", "price"]]
    frames = [["the", "{}", "rules", "the", "land"], ["a", "{}", "eats", "meat", "and", "sleeps"],
              ["the", "{}", "travels", "far", "and", "fast"], ["you", "need", "{}", "to", "buy", "food"]]
    rng = random.Random(seed)
    for _ in range(sentences):
        g = rng.randrange(len(groups))
        yield [w if w != "{}" else rng.choice(groups[g]) for w in frames[g]]


def build(sources: list[str], out: str | Path, path: str | None = None,
          wordnet_dir: str | Path = WORDNET_DIR) -> dict:
    """Write the corpus (one tokenised sentence per line) and return its description."""
    readers = {"enwiki": wiki_sentences, "wordnet": lambda: wordnet_sentences(wordnet_dir),
               "file": lambda: text_file_sentences(path), "synthetic": synthetic_sentences}
    lines, counts = [], {}
    for source in sources:
        before = len(lines)
        lines.extend(" ".join(tokens) for tokens in readers[source]())
        counts[source] = sum(len(line.split()) for line in lines[before:])
        if counts[source] == 0:
            where = f" ('{path}')" if source == "file" else ""
            raise DataError(f"corpus source '{source}'{where} gave no text")
    text = "\n".join(lines) + "\n"
    atomic_write_text(out, text)
    info = {"sources": sources, "tokens": counts, "total_tokens": sum(counts.values()),
            "lines": len(lines), "sha256": sha256(text.encode())}
    write_json(Path(str(out) + ".json"), info)
    return info


def read_sentences(path: str | Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as lines:
        return [line.split() for line in lines if line.strip()]
