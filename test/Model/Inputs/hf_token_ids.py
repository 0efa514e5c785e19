"""Prints, one line per file, the token ids Hugging Face's `tokenizers`
gives the file's text with a tokenizer.json (no special tokens added), as
`qpal tokenize` prints them.

Usage: hf_token_ids.py TOKENIZER.json FILE..."""
import sys

from tokenizers import Tokenizer

tokenizer = Tokenizer.from_file(sys.argv[1])
for path in sys.argv[2:]:
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    print(" ".join(map(str, ids)))
