//===- Svg.cpp - Small SVG documents for qpal's pictures ------------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//

#include "qpal/Support/Svg.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

using namespace qpal;

std::string svg::escape(llvm::StringRef text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string svg::number(double value, int digits) {
  if (!std::isfinite(value))
    value = 0;
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", std::clamp(digits, 0, 9),
                value);
  std::string text = buffer;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0')
      text.pop_back();
    if (text.back() == '.')
      text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

std::string svg::viridis(double t) {
  // matplotlib's viridis at t = 0, 1/8, ..., 1.
  static constexpr std::array<std::array<int, 3>, 9> kStops = {
      {{68, 1, 84},
       {71, 44, 122},
       {59, 81, 139},
       {44, 113, 142},
       {33, 144, 141},
       {39, 173, 129},
       {92, 200, 99},
       {170, 220, 50},
       {253, 231, 37}}};
  if (!std::isfinite(t))
    t = 0;
  t = std::clamp(t, 0.0, 1.0) * 8;
  int index = std::min(7, static_cast<int>(t));
  double f = t - index;
  char buffer[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(
        std::lround(kStops[index][c] * (1 - f) + kStops[index + 1][c] * f));
  std::snprintf(buffer, sizeof(buffer), "#%02x%02x%02x", rgb[0], rgb[1],
                rgb[2]);
  return buffer;
}

svg::Document::Document(double width, double height)
    : width(width), height(height) {
  rect(0, 0, width, height, "#ffffff");
}

void svg::Document::rect(double x, double y, double w, double h,
                         llvm::StringRef fill, llvm::StringRef stroke,
                         double strokeWidth) {
  body += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" +
          number(w) + "\" height=\"" + number(h) + "\" fill=\"" + escape(fill) +
          "\"";
  if (stroke != "none")
    body += " stroke=\"" + escape(stroke) + "\" stroke-width=\"" +
            number(strokeWidth) + "\"";
  body += "/>\n";
}

void svg::Document::line(double x1, double y1, double x2, double y2,
                         llvm::StringRef stroke, double strokeWidth,
                         llvm::StringRef dash) {
  body += "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" +
          number(x2) + "\" y2=\"" + number(y2) + "\" stroke=\"" +
          escape(stroke) + "\" stroke-width=\"" + number(strokeWidth) + "\"";
  if (!dash.empty())
    body += " stroke-dasharray=\"" + escape(dash) + "\"";
  body += "/>\n";
}

void svg::Document::polyline(llvm::ArrayRef<std::pair<double, double>> points,
                             llvm::StringRef stroke, double strokeWidth,
                             llvm::StringRef dash) {
  body += "<polyline fill=\"none\" stroke=\"" + escape(stroke) +
          "\" stroke-width=\"" + number(strokeWidth) + "\"";
  if (!dash.empty())
    body += " stroke-dasharray=\"" + escape(dash) + "\"";
  body += " points=\"";
  for (size_t i = 0; i < points.size(); ++i)
    body += (i ? " " : "") + number(points[i].first) + "," +
            number(points[i].second);
  body += "\"/>\n";
}

void svg::Document::circle(double x, double y, double radius,
                           llvm::StringRef fill, llvm::StringRef stroke) {
  body += "<circle cx=\"" + number(x) + "\" cy=\"" + number(y) + "\" r=\"" +
          number(radius) + "\" fill=\"" + escape(fill) + "\"";
  if (stroke != "none")
    body += " stroke=\"" + escape(stroke) + "\"";
  body += "/>\n";
}

void svg::Document::text(double x, double y, llvm::StringRef content,
                         double size, llvm::StringRef anchor,
                         llvm::StringRef weight, double rotate,
                         llvm::StringRef fill) {
  body += "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" font-size=\"" +
          number(size) + "\" text-anchor=\"" + escape(anchor) + "\" fill=\"" +
          escape(fill) + "\"";
  if (weight != "normal")
    body += " font-weight=\"" + escape(weight) + "\"";
  if (rotate != 0)
    body += " transform=\"rotate(" + number(rotate) + " " + number(x) + " " +
            number(y) + ")\"";
  body += ">" + escape(content) + "</text>\n";
}

std::string svg::Document::str() const {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
         number(width) + "\" height=\"" + number(height) + "\" viewBox=\"0 0 " +
         number(width) + " " + number(height) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" +
         body + "</svg>\n";
}
