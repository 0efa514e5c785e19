//===- Json.h - A small strict JSON reader ----------------------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// Private to the runtime. Reads the manifest of a package (RFC 8259 JSON,
// nothing more): objects, arrays, strings with every escape (\uXXXX with
// surrogate pairs), numbers, true, false and null. The text must be valid
// UTF-8, objects may not repeat a key, and nesting deeper than kMaxDepth is
// an error, never a stack overflow. Every error names the byte offset. Uses
// the C++ standard library alone.
//
//===----------------------------------------------------------------------===//

#ifndef QPALRT_LIB_JSON_H
#define QPALRT_LIB_JSON_H

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qpalrt::json {

/// The deepest nesting of arrays and objects `parse` accepts.
constexpr int kMaxDepth = 64;

/// One JSON value. Only the members of its kind are meaningful.
class Value {
public:
  /// The kinds of value.
  enum class Kind { Null, Bool, Number, String, Array, Object };

  /// Returns the kind.
  Kind getKind() const { return kind; }
  /// Returns "null", "boolean", "number", "string", "array" or "object".
  const char *getKindName() const;

  /// Returns whether this is null.
  bool isNull() const { return kind == Kind::Null; }
  /// Returns whether this is true or false.
  bool isBool() const { return kind == Kind::Bool; }
  /// Returns whether this is a number.
  bool isNumber() const { return kind == Kind::Number; }
  /// Returns whether this is a string.
  bool isString() const { return kind == Kind::String; }
  /// Returns whether this is an array.
  bool isArray() const { return kind == Kind::Array; }
  /// Returns whether this is an object.
  bool isObject() const { return kind == Kind::Object; }

  /// Returns a boolean's value.
  bool getBool() const { return boolean; }
  /// Returns a number's value.
  double getNumber() const { return number; }
  /// Returns whether a number is an integer that int64_t holds exactly
  /// (written without fraction or exponent, or with an integral value
  /// below 2^53 in magnitude).
  bool isInteger() const { return kind == Kind::Number && integral; }
  /// Returns an integer's value (see isInteger).
  int64_t getInteger() const { return integer; }
  /// Returns a string's value, UTF-8.
  const std::string &getString() const { return string; }
  /// Returns an array's elements.
  const std::vector<Value> &getArray() const { return array; }
  /// Returns an object's members in the order written.
  const std::vector<std::pair<std::string, Value>> &getObject() const {
    return object;
  }
  /// Returns the member `key` of an object, or null if there is none (or
  /// this is not an object).
  const Value *get(std::string_view key) const;

private:
  friend class Parser;
  Kind kind = Kind::Null;
  bool boolean = false;
  bool integral = false;
  double number = 0.0;
  int64_t integer = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;
};

/// Parses `text` as one JSON value (surrounded by optional whitespace) into
/// `out`. On failure returns false and sets `error` to a message such as
/// "expected ':' after an object key at byte 17"; `out` is then unspecified.
bool parse(std::string_view text, Value &out, std::string &error);

} // namespace qpalrt::json

#endif // QPALRT_LIB_JSON_H
