//===- Unicode.h - Code points for the tokenizers ---------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// UTF-8 decoding and the character classes the BPE pre-tokenizer needs, with
// llama.cpp's conventions: an invalid UTF-8 byte decodes to U+FFFD and is
// skipped; \s is llama.cpp's whitespace set.
//
//===----------------------------------------------------------------------===//

#ifndef QPALTOK_LIB_UNICODE_H
#define QPALTOK_LIB_UNICODE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qpaltok::detail {

/// Decodes `text` into code points; invalid sequences become U+FFFD, one per
/// offending lead byte.
std::vector<uint32_t> decodeUtf8(std::string_view text);

/// Appends the UTF-8 encoding of `codepoint` to `out`.
void appendUtf8(uint32_t codepoint, std::string &out);

/// Returns the length of the UTF-8 sequence that `leadByte` starts (1 for
/// continuation and invalid bytes), as llama.cpp's `unicode_len_utf8`.
size_t getUtf8Length(uint8_t leadByte);

/// Returns true for code points of general category L*.
bool isLetter(uint32_t codepoint);
/// Returns true for code points of general category N*.
bool isNumber(uint32_t codepoint);
/// Returns true for llama.cpp's whitespace code points.
bool isWhitespace(uint32_t codepoint);

/// Returns the GPT-2 byte-level alphabet's code point for `byte`.
uint32_t byteToUnicode(uint8_t byte);

} // namespace qpaltok::detail

#endif // QPALTOK_LIB_UNICODE_H
