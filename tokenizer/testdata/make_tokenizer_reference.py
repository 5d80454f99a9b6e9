#!/usr/bin/env python3
"""Reference data for the Go tokenizer: Hugging Face `tokenizers` (pinned in
deps/requirements-hfref.txt) trains three small BPE tokenizers on corpus.txt
and encodes/decodes a varied, seeded set of test strings with them.

    python tokenizer/testdata/make_tokenizer_reference.py --out tokenizer/testdata

Writes, for NAME in llama (BPE + byte fallback, LLaMA/Mistral normalizer
Prepend+Replace), metaspace (BPE + byte fallback, Metaspace pre-tokenizer,
prepend_scheme "first"), bytelevel (GPT-2 byte-level BPE), whitespace and wordpunct
(BPE + byte fallback behind the Whitespace+Digits and WhitespaceSplit+Punctuation+Digits
pre-tokenizers) and wordpiece (WordPiece, BertPreTokenizer, WordPiece decoder, BERT's
[CLS] $A [SEP] template; no normalizer) and unigram (SentencePiece unigram, Metaspace,
$A </s>; unigram-bytes the same with byte fallback):
  NAME.tokenizer.json       the tokenizer, as tokenizers saves it
  NAME.cases.jsonl.gz       one JSON object per string:
                            {"text", "ids" (add_special_tokens=False),
                             "ids_special" (True), "decoded" (decode(ids)),
                             "decoded_skip" (decode(ids_special, skip_special_tokens=True))}

and punctuation.txt, the code points the library treats as punctuation. The first five
are reproduced byte for byte by a rerun; wordpiece's vocabulary is not (the library's
WordPiece trainer orders ties differently from run to run), so its tokenizer.json and cases
are replaced together, as are unigram's and unigram-bytes'.

The byte tokens <0x00>..<0xFF> of the byte-fallback tokenizers are ordinary
vocabulary entries, as in LLaMA's tokenizer.json (training adds them as
special tokens; the script moves them into the model vocabulary).
"""
import argparse
import gzip
import json
import os
import random

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

N_CASES = 10500
SPECIAL = ["<unk>", "<s>", "</s>"]
BYTES = [f"<0x{b:02X}>" for b in range(256)]


def corpus_lines(path):
    with open(path, encoding="utf-8") as f:
        return [l for l in f.read().split("\n") if l.strip()]


def byte_fallback_tokenizer(lines, kind):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if kind == "llama":
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=SPECIAL + BYTES, min_frequency=2, show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    # Move the byte tokens from added_tokens into the plain vocabulary (LLaMA's layout).
    js = json.loads(tok.to_str())
    js["added_tokens"] = [a for a in js["added_tokens"] if a["content"] in SPECIAL]
    return Tokenizer.from_str(json.dumps(js))


def split_tokenizer(lines, kind):
    """BPE with byte fallback behind the splitting pre-tokenizers of word-level models:
    "whitespace": Whitespace (\\w+|[^\\w\\s]+) then Digits (runs);
    "wordpunct": WhitespaceSplit, then Punctuation and Digits(individual_digits) isolated.
    No decoder: decode joins the tokens with spaces, as the library does without one."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if kind == "whitespace":
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=False)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                                     pre_tokenizers.Digits(individual_digits=True)])
    trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=SPECIAL + BYTES, min_frequency=2, show_progress=False)
    tok.train_from_iterator(lines, trainer)
    js = json.loads(tok.to_str())
    js["added_tokens"] = [a for a in js["added_tokens"] if a["content"] in SPECIAL]
    return Tokenizer.from_str(json.dumps(js))


def wordpiece_tokenizer(lines):
    """BERT's layout without its normalizer: WordPiece (## continuations, [UNK] for a word with
    no segmentation), BertPreTokenizer, WordPiece decoder with cleanup, [CLS] $A [SEP]."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=40))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordPieceTrainer(vocab_size=1200, special_tokens=["[UNK]", "[CLS]", "[SEP]"], min_frequency=2,
                                        show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    return tok


def unigram_tokenizer(lines):
    """SentencePiece's unigram model (T5, ALBERT, XLNet) behind a Metaspace pre-tokenizer and
    decoder: the Viterbi segmentation by piece log-probabilities, unknown characters fused into
    one <unk>. No Precompiled normalizer."""
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.UnigramTrainer(vocab_size=1200, special_tokens=SPECIAL, unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return tok


def with_byte_fallback(tok):
    """A Unigram tokenizer with byte fallback: the pieces <0x00>..<0xFF> appended (score: the
    lowest, so they win only where nothing else matches literal text) and byte_fallback set, so
    unknown runs become their UTF-8 bytes (the trainer has no such option)."""
    js = json.loads(tok.to_str())
    low = min(s for _, s in js["model"]["vocab"])
    js["model"]["vocab"] += [[b, low] for b in BYTES]
    js["model"]["byte_fallback"] = True
    return Tokenizer.from_str(json.dumps(js))


def byte_level_tokenizer(lines):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=["<|endoftext|>"], min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    return tok


# Character pools for random strings.
RANGES = [
    (0x20, 0x7E), (0x20, 0x7E), (0x20, 0x7E),  # ASCII weighs most
    (0x00, 0x1F),  # control characters
    (0xA0, 0xFF),  # Latin-1 (NBSP included)
    (0x100, 0x17F), (0x370, 0x3FF), (0x400, 0x4FF),  # Latin extended, Greek, Cyrillic
    (0x300, 0x36F),  # combining marks
    (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F),  # Hebrew, Arabic, Devanagari
    (0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00),  # kana, CJK, Hangul
    (0x2000, 0x206F),  # general punctuation: spaces, ZWJ, ZWSP, LRM
    (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF),  # emoji
    (0x1D400, 0x1D4FF), (0x10000, 0x1007F),  # astral planes
    (0xFFF0, 0xFFFD),
]
WHITESPACE = [" ", "  ", "    ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "\u3000", " \t ", "\u2009", "\u200b", "\v", "\f"]
LITERALS = ["<s>", "</s>", "<unk>", "<0x41>", "<0x0A>", "▁", "▁▁", "<|endoftext|>", "<s><s>", "</s> <s>", "'s", "'ll", "n't", "'re"]


def rand_char(rng):
    lo, hi = rng.choice(RANGES)
    c = rng.randint(lo, hi)
    if 0xD800 <= c <= 0xDFFF:
        c = 0x41
    return chr(c)


def make_cases(lines, rng):
    cases = ["", " ", "  ", "\n", "a", "▁", "<s>", " <s>", "<s> ", "hello world", " hello", "hello ", "\t\tx", "é", "🙂", "a\u0301", "日本語"]
    kinds = ["corpus", "random", "mixed", "whitespace", "code", "literal"]
    code = [l for l in lines if l.startswith(("\t", "    ", "func ", "for ", "if ", "def ", "import", "}"))] or lines
    while len(cases) < N_CASES:
        k = rng.choice(kinds)
        if k == "corpus":
            l = rng.choice(lines)
            a = rng.randint(0, len(l))
            b = rng.randint(a, min(len(l), a + rng.randint(1, 120)))
            s = l[a:b]
        elif k == "random":
            s = "".join(rand_char(rng) for _ in range(rng.randint(1, 30)))
        elif k == "mixed":
            parts = []
            for _ in range(rng.randint(1, 8)):
                r = rng.random()
                if r < 0.4:
                    parts.append(rng.choice(rng.choice(lines).split() or ["x"]))
                elif r < 0.6:
                    parts.append(rng.choice(WHITESPACE))
                elif r < 0.8:
                    parts.append("".join(rand_char(rng) for _ in range(rng.randint(1, 4))))
                else:
                    parts.append(rng.choice(LITERALS))
            s = rng.choice(["", " "]).join(parts)
        elif k == "whitespace":
            s = "".join(rng.choice(WHITESPACE + ["x", "ab", "1", "."]) for _ in range(rng.randint(1, 12)))
        elif k == "code":
            s = "\n".join(rng.choice(code) for _ in range(rng.randint(1, 4)))
        else:
            s = rng.choice(LITERALS).join(rng.choice(rng.choice(lines).split() or ["x"]) for _ in range(rng.randint(1, 4)))
        cases.append(s)
    return cases


def write_punctuation(path):
    """The non-ASCII code points the library's Punctuation pre-tokenizer isolates ("a" + c + "b"
    splits in three), one hex number a line: its punctuation table, older than Go's."""
    pt = pre_tokenizers.Punctuation()
    with open(path, "w") as f:
        for cp in range(0x80, 0x110000):
            if not 0xD800 <= cp <= 0xDFFF and len(pt.pre_tokenize_str("a" + chr(cp) + "b")) == 3:
                f.write(f"{cp:X}\n")


def write_cases(path, tok, cases):
    with gzip.GzipFile(path, "wb", mtime=0) as gz:
        for s in cases:
            ids = tok.encode(s, add_special_tokens=False).ids
            ids_sp = tok.encode(s, add_special_tokens=True).ids
            rec = {"text": s, "ids": ids, "ids_special": ids_sp,
                   "decoded": tok.decode(ids, skip_special_tokens=False),
                   "decoded_skip": tok.decode(ids_sp, skip_special_tokens=True)}
            gz.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    lines = corpus_lines(os.path.join(args.out, "corpus.txt"))
    rng = random.Random(20261202)
    cases = make_cases(lines, rng)
    toks = {
        "llama": byte_fallback_tokenizer(lines, "llama"),
        "metaspace": byte_fallback_tokenizer(lines, "metaspace"),
        "bytelevel": byte_level_tokenizer(lines),
        "whitespace": split_tokenizer(lines, "whitespace"),
        "wordpunct": split_tokenizer(lines, "wordpunct"),
        "wordpiece": wordpiece_tokenizer(lines),
        "unigram": unigram_tokenizer(lines),
    }
    toks["unigram-bytes"] = with_byte_fallback(toks["unigram"])
    for name, tok in toks.items():
        tok.save(os.path.join(args.out, f"{name}.tokenizer.json"))
        # Reload from the file, so the cases come from what the Go side reads.
        tok = Tokenizer.from_file(os.path.join(args.out, f"{name}.tokenizer.json"))
        write_cases(os.path.join(args.out, f"{name}.cases.jsonl.gz"), tok, cases)
        print(name, "vocab", tok.get_vocab_size(), "cases", len(cases))
    write_punctuation(os.path.join(args.out, "punctuation.txt"))


if __name__ == "__main__":
    main()
