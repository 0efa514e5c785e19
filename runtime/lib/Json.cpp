//===- Json.cpp - A small strict JSON reader ------------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// A recursive-descent parser whose recursion is bounded by kMaxDepth, so
// that hostile input ("[[[[...") is an error after 64 levels instead of a
// stack overflow.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

using namespace qpalrt::json;

namespace qpalrt::json {

/// Parses one document; the first error stops it.
class Parser {
public:
  explicit Parser(std::string_view text) : text(text) {}

  bool parseDocument(Value &out, std::string &error) {
    skipWhitespace();
    bool ok = parseValue(out, 0);
    if (ok) {
      skipWhitespace();
      if (position != text.size())
        ok = fail("unexpected text after the value");
    }
    if (!ok)
      error = message;
    return ok;
  }

private:
  std::string_view text;
  size_t position = 0;
  std::string message;

  /// Records the first error, at the current position; returns false.
  bool fail(const std::string &what) { return failAt(what, position); }
  bool failAt(const std::string &what, size_t at) {
    if (message.empty())
      message = what + " at byte " + std::to_string(at);
    return false;
  }

  bool atEnd() const { return position >= text.size(); }
  char peek() const { return atEnd() ? '\0' : text[position]; }

  void skipWhitespace() {
    while (!atEnd() && (text[position] == ' ' || text[position] == '\t' ||
                        text[position] == '\n' || text[position] == '\r'))
      ++position;
  }

  /// Consumes `word` (true, false, null) or fails.
  bool expectWord(std::string_view word) {
    if (text.substr(position, word.size()) != word)
      return fail("invalid literal, expected '" + std::string(word) + "'");
    position += word.size();
    return true;
  }

  bool parseValue(Value &out, int depth) {
    if (atEnd())
      return fail("unexpected end of the text, expected a value");
    switch (peek()) {
    case '{':
      return parseObject(out, depth + 1);
    case '[':
      return parseArray(out, depth + 1);
    case '"':
      out.kind = Value::Kind::String;
      return parseString(out.string);
    case 't':
      out.kind = Value::Kind::Bool;
      out.boolean = true;
      return expectWord("true");
    case 'f':
      out.kind = Value::Kind::Bool;
      out.boolean = false;
      return expectWord("false");
    case 'n':
      out.kind = Value::Kind::Null;
      return expectWord("null");
    default:
      if (peek() == '-' || (peek() >= '0' && peek() <= '9'))
        return parseNumber(out);
      return fail(std::string("unexpected character ") + describe(peek()) +
                  ", expected a value");
    }
  }

  static std::string describe(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f)
      return std::string("'") + c + "'";
    static const char digits[] = "0123456789abcdef";
    return std::string("0x") + digits[u >> 4] + digits[u & 15];
  }

  bool parseObject(Value &out, int depth) {
    if (depth > kMaxDepth)
      return fail("nesting deeper than " + std::to_string(kMaxDepth) +
                  " levels");
    out.kind = Value::Kind::Object;
    // A set, so that an object with many keys is not quadratic to check.
    std::unordered_set<std::string> keys;
    ++position; // '{'
    skipWhitespace();
    if (peek() == '}') {
      ++position;
      return true;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"')
        return atEnd() ? fail("unexpected end of the text in an object")
                       : fail("expected a string key in an object");
      size_t keyStart = position;
      std::string key;
      if (!parseString(key))
        return false;
      if (!keys.insert(key).second)
        return failAt("duplicate key \"" + key + "\"", keyStart);
      skipWhitespace();
      if (peek() != ':')
        return fail("expected ':' after an object key");
      ++position;
      skipWhitespace();
      out.object.emplace_back(std::move(key), Value());
      if (!parseValue(out.object.back().second, depth))
        return false;
      skipWhitespace();
      if (peek() == ',') {
        ++position;
        continue;
      }
      if (peek() == '}') {
        ++position;
        return true;
      }
      return atEnd() ? fail("unexpected end of the text in an object")
                     : fail("expected ',' or '}' in an object");
    }
  }

  bool parseArray(Value &out, int depth) {
    if (depth > kMaxDepth)
      return fail("nesting deeper than " + std::to_string(kMaxDepth) +
                  " levels");
    out.kind = Value::Kind::Array;
    ++position; // '['
    skipWhitespace();
    if (peek() == ']') {
      ++position;
      return true;
    }
    while (true) {
      skipWhitespace();
      out.array.emplace_back();
      if (!parseValue(out.array.back(), depth))
        return false;
      skipWhitespace();
      if (peek() == ',') {
        ++position;
        continue;
      }
      if (peek() == ']') {
        ++position;
        return true;
      }
      return atEnd() ? fail("unexpected end of the text in an array")
                     : fail("expected ',' or ']' in an array");
    }
  }

  static void appendUtf8(std::string &out, uint32_t codePoint) {
    if (codePoint < 0x80) {
      out += char(codePoint);
    } else if (codePoint < 0x800) {
      out += char(0xc0 | (codePoint >> 6));
      out += char(0x80 | (codePoint & 0x3f));
    } else if (codePoint < 0x10000) {
      out += char(0xe0 | (codePoint >> 12));
      out += char(0x80 | ((codePoint >> 6) & 0x3f));
      out += char(0x80 | (codePoint & 0x3f));
    } else {
      out += char(0xf0 | (codePoint >> 18));
      out += char(0x80 | ((codePoint >> 12) & 0x3f));
      out += char(0x80 | ((codePoint >> 6) & 0x3f));
      out += char(0x80 | (codePoint & 0x3f));
    }
  }

  /// Reads the four hex digits of a \u escape.
  bool parseHex4(uint32_t &value) {
    value = 0;
    for (int i = 0; i < 4; ++i, ++position) {
      char c = peek();
      int digit;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      else
        return fail("expected four hex digits after \\u");
      value = value * 16 + uint32_t(digit);
    }
    return true;
  }

  /// Consumes one UTF-8 encoded character (its first byte >= 0x80) into
  /// `out`, rejecting overlong forms, surrogates and truncation.
  bool copyUtf8(std::string &out) {
    unsigned char lead = static_cast<unsigned char>(text[position]);
    int length;
    uint32_t codePoint, minimum;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2, codePoint = lead & 0x1f, minimum = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3, codePoint = lead & 0x0f, minimum = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4, codePoint = lead & 0x07, minimum = 0x10000;
    } else {
      return fail("invalid UTF-8 byte " + describe(char(lead)) +
                  " in a string");
    }
    if (text.size() - position < size_t(length))
      return fail("truncated UTF-8 sequence in a string");
    for (int i = 1; i < length; ++i) {
      unsigned char next = static_cast<unsigned char>(text[position + i]);
      if ((next & 0xc0) != 0x80)
        return fail("invalid UTF-8 sequence in a string");
      codePoint = codePoint << 6 | (next & 0x3f);
    }
    if (codePoint < minimum || codePoint > 0x10ffff ||
        (codePoint >= 0xd800 && codePoint <= 0xdfff))
      return fail("invalid UTF-8 sequence in a string");
    out.append(text.data() + position, size_t(length));
    position += size_t(length);
    return true;
  }

  bool parseString(std::string &out) {
    size_t start = position;
    ++position; // '"'
    while (true) {
      if (atEnd())
        return failAt("unterminated string", start);
      unsigned char c = static_cast<unsigned char>(text[position]);
      if (c == '"') {
        ++position;
        return true;
      }
      if (c < 0x20)
        return fail("unescaped control character " + describe(char(c)) +
                    " in a string");
      if (c >= 0x80) {
        if (!copyUtf8(out))
          return false;
        continue;
      }
      if (c != '\\') {
        out += char(c);
        ++position;
        continue;
      }
      ++position;
      char escape = peek();
      ++position;
      switch (escape) {
      case '"':
      case '\\':
      case '/':
        out += escape;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        size_t escapeStart = position - 2;
        uint32_t unit;
        if (!parseHex4(unit))
          return false;
        if (unit >= 0xdc00 && unit <= 0xdfff)
          return failAt("unpaired low surrogate in a \\u escape", escapeStart);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          uint32_t low;
          if (text.substr(position, 2) != "\\u")
            return failAt("unpaired high surrogate in a \\u escape",
                          escapeStart);
          position += 2;
          if (!parseHex4(low))
            return false;
          if (low < 0xdc00 || low > 0xdfff)
            return failAt("unpaired high surrogate in a \\u escape",
                          escapeStart);
          unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        }
        appendUtf8(out, unit);
        break;
      }
      default:
        position -= 1;
        return atEnd() ? failAt("unterminated string", start)
                       : fail("invalid escape character " + describe(escape) +
                              " after '\\' in a string");
      }
    }
  }

  bool parseNumber(Value &out) {
    size_t start = position;
    bool integerSyntax = true;
    if (peek() == '-')
      ++position;
    if (peek() == '0') {
      ++position;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9')
        ++position;
    } else {
      return fail("expected a digit in a number");
    }
    if (peek() == '.') {
      integerSyntax = false;
      ++position;
      if (!(peek() >= '0' && peek() <= '9'))
        return fail("expected a digit after the decimal point");
      while (peek() >= '0' && peek() <= '9')
        ++position;
    }
    if (peek() == 'e' || peek() == 'E') {
      integerSyntax = false;
      ++position;
      if (peek() == '+' || peek() == '-')
        ++position;
      if (!(peek() >= '0' && peek() <= '9'))
        return fail("expected a digit in the exponent");
      while (peek() >= '0' && peek() <= '9')
        ++position;
    }
    std::string lexeme(text.substr(start, position - start));
    out.kind = Value::Kind::Number;
    out.number = std::strtod(lexeme.c_str(), nullptr);
    if (!std::isfinite(out.number))
      return failAt("number " + lexeme + " out of range", start);
    out.integral = false;
    if (integerSyntax) {
      errno = 0;
      char *end = nullptr;
      long long value = std::strtoll(lexeme.c_str(), &end, 10);
      if (errno == 0 && *end == '\0') {
        out.integral = true;
        out.integer = value;
      }
    } else if (std::fabs(out.number) < 9007199254740992.0 &&
               std::trunc(out.number) == out.number) {
      out.integral = true;
      out.integer = static_cast<int64_t>(out.number);
    }
    return true;
  }
};

} // namespace qpalrt::json

const char *Value::getKindName() const {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "boolean";
  case Kind::Number:
    return "number";
  case Kind::String:
    return "string";
  case Kind::Array:
    return "array";
  case Kind::Object:
    return "object";
  }
  return "value";
}

const Value *Value::get(std::string_view key) const {
  for (const auto &member : object)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

bool qpalrt::json::parse(std::string_view text, Value &out,
                         std::string &error) {
  out = Value();
  return Parser(text).parseDocument(out, error);
}
