//===- JsonTest.cpp - The runtime's JSON reader ---------------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// runtime/lib/Json.h reads package manifests: RFC 8259 and nothing more,
// with errors that name the byte, and bounded nesting.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include "gtest/gtest.h"

using namespace qpalrt;

namespace {

/// Parses `text`, expecting success.
json::Value parseOk(const std::string &text) {
  json::Value value;
  std::string error;
  EXPECT_TRUE(json::parse(text, value, error)) << text << ": " << error;
  return value;
}

/// Parses `text`, expecting failure; returns the message.
std::string parseError(const std::string &text) {
  json::Value value;
  std::string error;
  EXPECT_FALSE(json::parse(text, value, error)) << text;
  return error;
}

/// Every kind of value, members in order, lookups by key.
TEST(RuntimeJson, Values) {
  json::Value root = parseOk(R"( {"a": [1, -2.5, 3e2, true, false, null],
                                    "b": {"c": "d"}, "e": {}} )");
  ASSERT_TRUE(root.isObject());
  ASSERT_EQ(root.getObject().size(), 3u);
  EXPECT_EQ(root.getObject()[1].first, "b");
  const json::Value *a = root.get("a");
  ASSERT_TRUE(a && a->isArray());
  ASSERT_EQ(a->getArray().size(), 6u);
  EXPECT_TRUE(a->getArray()[0].isInteger());
  EXPECT_EQ(a->getArray()[0].getInteger(), 1);
  EXPECT_FALSE(a->getArray()[1].isInteger());
  EXPECT_DOUBLE_EQ(a->getArray()[1].getNumber(), -2.5);
  EXPECT_TRUE(a->getArray()[2].isInteger()); // 300, written with an exponent
  EXPECT_EQ(a->getArray()[2].getInteger(), 300);
  EXPECT_TRUE(a->getArray()[3].getBool());
  EXPECT_TRUE(a->getArray()[4].isBool());
  EXPECT_FALSE(a->getArray()[4].getBool());
  EXPECT_TRUE(a->getArray()[5].isNull());
  EXPECT_EQ(root.get("b")->get("c")->getString(), "d");
  EXPECT_TRUE(root.get("e")->isObject());
  EXPECT_EQ(root.get("missing"), nullptr);
  EXPECT_EQ(a->get("a"), nullptr); // not an object
}

/// Integers keep all 64 bits; larger ones are numbers, not integers.
TEST(RuntimeJson, Integers) {
  EXPECT_EQ(parseOk("9223372036854775807").getInteger(), INT64_MAX);
  EXPECT_EQ(parseOk("-9223372036854775808").getInteger(), INT64_MIN);
  EXPECT_FALSE(parseOk("9223372036854775808").isInteger());
  EXPECT_FALSE(parseOk("1e300").isInteger());
  EXPECT_TRUE(parseOk("-0").isInteger());
}

/// Every escape, surrogate pairs, and raw UTF-8.
TEST(RuntimeJson, Strings) {
  EXPECT_EQ(parseOk(R"("\"\\\/\b\f\n\r\t")").getString(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parseOk(R"("\u0041\u00e9\u20ac")").getString(),
            "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(parseOk(R"("\ud83d\ude00")").getString(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(parseOk("\"\xf0\x9f\x98\x80 \xc3\xa9\"").getString(),
            "\xf0\x9f\x98\x80 \xc3\xa9");
  EXPECT_EQ(parseOk(R"("a\u0000b")").getString(), std::string("a\0b", 3));
}

/// Errors name the byte where the text goes wrong.
TEST(RuntimeJson, Errors) {
  EXPECT_EQ(parseError(""), "unexpected end of the text, expected a value at "
                            "byte 0");
  EXPECT_EQ(parseError("{\"a\" 1}"),
            "expected ':' after an object key at byte 5");
  EXPECT_EQ(parseError("[1, 2"), "unexpected end of the text in an array at "
                                 "byte 5");
  EXPECT_EQ(parseError("[1 2]"), "expected ',' or ']' in an array at byte 3");
  EXPECT_EQ(parseError("{\"a\": 1,}"),
            "expected a string key in an object at byte 8");
  EXPECT_EQ(parseError("[1,]"),
            "unexpected character ']', expected a value at byte 3");
  EXPECT_EQ(parseError("{} x"), "unexpected text after the value at byte 3");
  EXPECT_EQ(parseError("{\"a\": 1, \"a\": 2}"),
            "duplicate key \"a\" at byte 9");
  EXPECT_EQ(parseError("tru"), "invalid literal, expected 'true' at byte 0");
  EXPECT_EQ(parseError("01"), "unexpected text after the value at byte 1");
  EXPECT_EQ(parseError("-"), "expected a digit in a number at byte 1");
  EXPECT_EQ(parseError("1."), "expected a digit after the decimal point at "
                              "byte 2");
  EXPECT_EQ(parseError("1e"), "expected a digit in the exponent at byte 2");
  EXPECT_EQ(parseError("1e999"), "number 1e999 out of range at byte 0");
  EXPECT_EQ(parseError("\"abc"), "unterminated string at byte 0");
  EXPECT_EQ(parseError("\"a\nb\""),
            "unescaped control character 0x0a in a string at byte 2");
  EXPECT_EQ(parseError(R"("\x")"),
            "invalid escape character 'x' after '\\' in a string at byte 2");
  EXPECT_EQ(parseError(R"("\u12g4")"),
            "expected four hex digits after \\u at byte 5");
  EXPECT_EQ(parseError(R"("\ud83d")"),
            "unpaired high surrogate in a \\u escape at byte 1");
  EXPECT_EQ(parseError(R"("\ude00")"),
            "unpaired low surrogate in a \\u escape at byte 1");
  EXPECT_EQ(parseError("\"\xff\""), "invalid UTF-8 byte 0xff in a string at "
                                    "byte 1");
  EXPECT_EQ(parseError("\"\xc0\x80\""),
            "invalid UTF-8 byte 0xc0 in a string at byte 1");
  EXPECT_EQ(parseError("\"\xed\xa0\x80\""),
            "invalid UTF-8 sequence in a string at byte 1");
  EXPECT_EQ(parseError("\"\xe2\x82\""),
            "invalid UTF-8 sequence in a string at byte 1");
  EXPECT_EQ(parseError("[NaN]"),
            "unexpected character 'N', expected a value at byte 1");
}

/// 64 levels of nesting are fine; the 65th is an error, however deep the
/// text goes, and never a stack overflow.
TEST(RuntimeJson, Depth) {
  parseOk(std::string(64, '[') + std::string(64, ']'));
  std::string objects;
  for (int i = 0; i < 64; ++i)
    objects += "{\"a\":";
  parseOk(objects + "1" + std::string(64, '}'));
  EXPECT_EQ(parseError(std::string(65, '[') + std::string(65, ']')),
            "nesting deeper than 64 levels at byte 64");
  EXPECT_EQ(parseError(objects + "{}" + std::string(64, '}')),
            "nesting deeper than 64 levels at byte " +
                std::to_string(objects.size()));
  EXPECT_EQ(parseError(std::string(1000000, '[')),
            "nesting deeper than 64 levels at byte 64");
}

} // namespace
