//===- Svg.h - Small SVG documents for qpal's pictures ----------*- C++ -*-===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// What qpal's pictures (`qpal allocate --plot`, `qpal palette --measure
// --plot`) are drawn with: an SVG 1.1 document built element by element,
// text escaped, numbers printed the same on every machine, and a colour map
// (viridis, sampled at nine points and interpolated) for quantities such as
// bits per weight. No plotting library is needed at run time.
//
//===----------------------------------------------------------------------===//

#ifndef QPAL_SUPPORT_SVG_H
#define QPAL_SUPPORT_SVG_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <utility>

namespace qpal::svg {

/// An SVG document of a fixed size in pixels, on a white background.
class Document {
public:
  Document(double width, double height);

  /// A rectangle; `stroke` "none" for none.
  void rect(double x, double y, double width, double height,
            llvm::StringRef fill, llvm::StringRef stroke = "none",
            double strokeWidth = 1);
  void line(double x1, double y1, double x2, double y2, llvm::StringRef stroke,
            double strokeWidth = 1, llvm::StringRef dash = "");
  /// An open polyline through `points`.
  void polyline(llvm::ArrayRef<std::pair<double, double>> points,
                llvm::StringRef stroke, double strokeWidth = 1.5,
                llvm::StringRef dash = "");
  void circle(double x, double y, double radius, llvm::StringRef fill,
              llvm::StringRef stroke = "none");
  /// Text at (x, y); `anchor` is start, middle or end; `rotate` in degrees
  /// about (x, y).
  void text(double x, double y, llvm::StringRef content, double size = 12,
            llvm::StringRef anchor = "start", llvm::StringRef weight = "normal",
            double rotate = 0, llvm::StringRef fill = "#000000");

  /// The document, ending with a newline.
  std::string str() const;

private:
  double width, height;
  std::string body;
};

/// Escapes `&`, `<`, `>`, `"` and `'` for SVG text and attributes.
std::string escape(llvm::StringRef text);

/// `value` with at most `digits` decimals and no trailing zeros (the same
/// bytes on every machine: no locale, no exponent).
std::string number(double value, int digits = 2);

/// The viridis colour at `t` in [0, 1] (clamped), as "#rrggbb".
std::string viridis(double t);

} // namespace qpal::svg

#endif // QPAL_SUPPORT_SVG_H
