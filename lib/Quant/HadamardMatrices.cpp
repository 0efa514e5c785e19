//===- HadamardMatrices.cpp - Small +-1 Hadamard matrices -----------------===//
//
// Part of the qpal project, under the Apache License v2.0 with LLVM
// Exceptions. See LICENSE for license information.
//
//===----------------------------------------------------------------------===//
//
// The K x K matrices of the randomized Hadamard transform. Orders 12 and 28
// are the reference's own tables (quantizers.md, section 3.2, transcribed
// from `get_had12` / `get_had28`). All other orders are constructed here
// and are NOT the reference's Sloane tables; any Hadamard matrix gives an
// orthogonal transform, but not the reference's rotated weights:
//
//   Paley I  (q = 3 mod 4 a prime power, order q + 1):
//       20 (q = 19), 60 (q = 59), 108 (q = 107), 140 (q = 139)
//   Paley II (q = 1 mod 4 a prime power, order 2 (q + 1)):
//       36 (q = 17), 52 (q = 25 = 5^2, over GF(25)), 124 (q = 61)
//
//   Goethals-Seidel (order 4 n from four circulant +-1 matrices A, B, C, D
//   with A A^T + B B^T + C C^T + D D^T = 4 n I):
//       116 (n = 29), 156 (n = 39), 172 (n = 43)
//
// The Goethals-Seidel sequences (four +-1 sequences of length n whose
// periodic autocorrelations sum to zero at every non-zero shift) were found
// for qpal by a tabu search over sequence bits; any such quadruple works.
//
//===----------------------------------------------------------------------===//

#include "qpal/Quant/Hadamard.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <map>
#include <mutex>
#include <optional>

using namespace qpal;

namespace {

/// Row i of the reference's `get_had12` ('+' = +1, '-' = -1).
const char *const kHad12[] = {
    "+-----------", "++-+---+++-+", "+++-+---+++-", "+-++-+---+++",
    "++-++-+---++", "+++-++-+---+", "++++-++-+---", "+-+++-++-+--",
    "+--+++-++-+-", "+---+++-++-+", "++---+++-++-", "+-+---+++-++",
};

/// Row i of the reference's `get_had28`.
const char *const kHad28[] = {
    "++++++++++++++-+++++++++++++", "+++-++----++-++-+-++----++-+",
    "++++-++----++-++-+-++----++-", "+-+++-++----+++-+-+-++----++",
    "++-+++-++----+++-+-+-++----+", "+++-+++-++----+++-+-+-++----",
    "+-++-+++-++---+-++-+-+-++---", "+--++-+++-++--+--++-+-+-++--",
    "+---++-+++-++-+---++-+-+-++-", "+----++-+++-+++----++-+-+-++",
    "++----++-+++-+++----++-+-+-+", "+++----++-+++-+++----++-+-+-",
    "+-++----++-++++-++----++-+-+", "++-++----++-++++-++----++-+-",
    "-+++++++++++++--------------", "+-+-++----++-+---+--++++--+-",
    "++-+-++----++-----+--++++--+", "+-+-+-++----++-+---+--++++--",
    "++-+-+-++----+--+---+--++++-", "+++-+-+-++-------+---+--++++",
    "+-++-+-+-++----+--+---+--+++", "+--++-+-+-++---++--+---+--++",
    "+---++-+-+-++--+++--+---+--+", "+----++-+-+-++-++++--+---+--",
    "++----++-+-+-+--++++--+---+-", "+++----++-+-+----++++--+---+",
    "+-++----++-+-+-+--++++--+---", "++-++----++-+---+--++++--+--",
};

/// First rows of the circulant Goethals-Seidel blocks A, B, C, D.
struct GoethalsSeidelRows {
  unsigned n;
  const char *rows[4];
};
const GoethalsSeidelRows kGoethalsSeidel[] = {
    {29,
     {"-+----++-+----+-++---++--++++", "--+---+---++++---------+++--+",
      "-----++---+++-++-+-++--+--+--", "-+---++-++-+++-+--+-+-+-+---+"}},
    {39,
     {"--+-++-+--++++--++++--+++++------++-+-+",
      "---+++-+-+--+--++--+-++--+++-+++---++-+",
      "+-++-+++-+++-+-----------+++--++---+-+-",
      "++++----+-+++-++-+++-+-++-++++-++--+-++"}},
    {43,
     {"+-++---+--------++--++-----++--++-++----++-",
      "+-+--+++++-+-+---++-+-++-++--+-+-------+-++",
      "+-+--+-+----+--+---+---++++++----+-++---+++",
      "-+-+-++--++++-+++++---++-+++--+-++--+-+---+"}},
};

std::vector<int8_t> parseTable(const char *const *rows, unsigned order) {
  std::vector<int8_t> matrix(order * order);
  for (unsigned i = 0; i < order; ++i)
    for (unsigned j = 0; j < order; ++j)
      matrix[i * order + j] = rows[i][j] == '+' ? 1 : -1;
  return matrix;
}

/// GF(p) or GF(p^2) = GF(p)[x] / (x^2 - r) with r a quadratic non-residue;
/// element a + b x is numbered a + b p.
class FiniteField {
public:
  FiniteField(unsigned p, unsigned degree) : p(p) {
    q = degree == 1 ? p : p * p;
    nonResidue = 0;
    if (degree == 2) {
      for (unsigned r = 2; r < p && !nonResidue; ++r) {
        bool square = false;
        for (unsigned y = 1; y < p; ++y)
          square |= (y * y) % p == r;
        if (!square)
          nonResidue = r;
      }
    }
    isSquare.assign(q, false);
    for (unsigned z = 1; z < q; ++z)
      isSquare[square(z)] = true;
  }

  unsigned size() const { return q; }

  /// The quadratic character: 0 at 0, +1 on non-zero squares, -1 otherwise.
  int chi(unsigned z) const { return z == 0 ? 0 : (isSquare[z] ? 1 : -1); }

  unsigned subtract(unsigned u, unsigned v) const {
    unsigned a = (u % p + p - v % p) % p;
    unsigned b = (u / p + p - v / p) % p;
    return a + b * p;
  }

private:
  unsigned square(unsigned z) const {
    unsigned a = z % p, b = z / p;
    // (a + b x)^2 = a^2 + r b^2 + 2 a b x.
    unsigned real = (a * a + nonResidue * ((b * b) % p)) % p;
    unsigned imag = (2 * a * b) % p;
    return real + imag * p;
  }

  unsigned p, q, nonResidue;
  std::vector<bool> isSquare;
};

/// Paley I: H = I + [[0, 1^T], [-1, Q]] with the Jacobsthal matrix
/// Q[i][j] = chi(i - j), skew-symmetric for q = 3 mod 4. Order q + 1.
std::vector<int8_t> paleyOne(const FiniteField &field) {
  unsigned q = field.size(), order = q + 1;
  std::vector<int8_t> matrix(order * order);
  auto at = [&](unsigned i, unsigned j) -> int8_t & {
    return matrix[i * order + j];
  };
  at(0, 0) = 1;
  for (unsigned j = 0; j < q; ++j) {
    at(0, j + 1) = 1;
    at(j + 1, 0) = -1;
  }
  for (unsigned i = 0; i < q; ++i)
    for (unsigned j = 0; j < q; ++j)
      at(i + 1, j + 1) =
          static_cast<int8_t>(i == j ? 1 : field.chi(field.subtract(i, j)));
  return matrix;
}

/// Paley II: with the symmetric conference matrix C = [[0, 1^T], [1, Q]]
/// (q = 1 mod 4), H = C (x) [[1, 1], [1, -1]] + I (x) [[1, -1], [-1, -1]].
/// Order 2 (q + 1).
std::vector<int8_t> paleyTwo(const FiniteField &field) {
  unsigned q = field.size(), c = q + 1, order = 2 * c;
  auto conference = [&](unsigned i, unsigned j) -> int {
    if (i == j)
      return 0;
    if (i == 0 || j == 0)
      return 1;
    return field.chi(field.subtract(i - 1, j - 1));
  };
  static const int kOffDiagonal[2][2] = {{1, 1}, {1, -1}};
  static const int kDiagonal[2][2] = {{1, -1}, {-1, -1}};
  std::vector<int8_t> matrix(order * order);
  for (unsigned i = 0; i < c; ++i)
    for (unsigned j = 0; j < c; ++j)
      for (unsigned a = 0; a < 2; ++a)
        for (unsigned b = 0; b < 2; ++b)
          matrix[(2 * i + a) * order + 2 * j + b] = static_cast<int8_t>(
              i == j ? kDiagonal[a][b] : conference(i, j) * kOffDiagonal[a][b]);
  return matrix;
}

/// The Goethals-Seidel array
///
///   [  A     B R    C R    D R  ]
///   [ -B R   A      D^T R -C^T R]
///   [ -C R  -D^T R  A      B^T R]
///   [ -D R   C^T R -B^T R  A    ]
///
/// with circulant blocks X[i][j] = x[(j - i) mod n] and the back-diagonal
/// permutation R. Order 4 n.
std::vector<int8_t> goethalsSeidel(const GoethalsSeidelRows &sequences) {
  const unsigned n = sequences.n, order = 4 * n;
  // Entry (i, j) of X, X R, X^T R for block sequence x.
  auto circulant = [&](unsigned x, unsigned i, unsigned j) -> int {
    return sequences.rows[x][(j + n - i) % n] == '+' ? 1 : -1;
  };
  auto timesR = [&](unsigned x, unsigned i, unsigned j) {
    return circulant(x, i, n - 1 - j);
  };
  auto transposedTimesR = [&](unsigned x, unsigned i, unsigned j) {
    return circulant(x, n - 1 - j, i);
  };
  enum { A, B, C, D };
  std::vector<int8_t> matrix(order * order);
  for (unsigned bi = 0; bi < 4; ++bi)
    for (unsigned bj = 0; bj < 4; ++bj)
      for (unsigned i = 0; i < n; ++i)
        for (unsigned j = 0; j < n; ++j) {
          int v = 0;
          switch (bi * 4 + bj) {
          case 0:
          case 5:
          case 10:
          case 15:
            v = circulant(A, i, j);
            break;
          case 1:
            v = timesR(B, i, j);
            break;
          case 2:
            v = timesR(C, i, j);
            break;
          case 3:
            v = timesR(D, i, j);
            break;
          case 4:
            v = -timesR(B, i, j);
            break;
          case 6:
            v = transposedTimesR(D, i, j);
            break;
          case 7:
            v = -transposedTimesR(C, i, j);
            break;
          case 8:
            v = -timesR(C, i, j);
            break;
          case 9:
            v = -transposedTimesR(D, i, j);
            break;
          case 11:
            v = transposedTimesR(B, i, j);
            break;
          case 12:
            v = -timesR(D, i, j);
            break;
          case 13:
            v = transposedTimesR(C, i, j);
            break;
          case 14:
            v = -transposedTimesR(B, i, j);
            break;
          }
          matrix[(bi * n + i) * order + bj * n + j] = static_cast<int8_t>(v);
        }
  return matrix;
}

std::optional<std::vector<int8_t>> buildMatrix(unsigned order) {
  for (const GoethalsSeidelRows &sequences : kGoethalsSeidel)
    if (order == 4 * sequences.n)
      return goethalsSeidel(sequences);
  switch (order) {
  case 12:
    return parseTable(kHad12, 12);
  case 28:
    return parseTable(kHad28, 28);
  case 20:
    return paleyOne(FiniteField(19, 1));
  case 60:
    return paleyOne(FiniteField(59, 1));
  case 108:
    return paleyOne(FiniteField(107, 1));
  case 140:
    return paleyOne(FiniteField(139, 1));
  case 36:
    return paleyTwo(FiniteField(17, 1));
  case 52:
    return paleyTwo(FiniteField(5, 2));
  case 124:
    return paleyTwo(FiniteField(61, 1));
  default:
    return std::nullopt;
  }
}

} // namespace

bool qpal::hasHadamardMatrix(unsigned order) {
  switch (order) {
  case 1:
  case 12:
  case 20:
  case 28:
  case 36:
  case 52:
  case 60:
  case 108:
  case 116:
  case 124:
  case 140:
  case 156:
  case 172:
    return true;
  default:
    return false;
  }
}

llvm::Expected<llvm::ArrayRef<int8_t>> qpal::hadamardMatrix(unsigned order) {
  static std::mutex mutex;
  static std::map<unsigned, std::vector<int8_t>> cache;
  static const int8_t kOne[] = {1};
  if (order == 1)
    return llvm::ArrayRef<int8_t>(kOne);
  if (!hasHadamardMatrix(order))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("qpal has no Hadamard matrix of order {0}", order));
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(order);
  if (it == cache.end())
    it = cache.emplace(order, *buildMatrix(order)).first;
  // std::map never moves its nodes, so the reference stays valid.
  return llvm::ArrayRef<int8_t>(it->second);
}
