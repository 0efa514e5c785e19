/*===- CpuKernels.c - CPU kernels for the runtime tests ------------------===*\
|*                                                                            *|
|* Part of the qpal project, under the Apache License v2.0 with LLVM          *|
|* Exceptions. See LICENSE for license information.                           *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* Built into a shared object at test-build time and loaded by the runtime.   *|
|* Every kernel follows the bare-pointer ABI: pointer parameters only, with   *|
|* the shapes fixed at compile time, as in compiled qpal kernels.             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

/* The shapes the tests use: RuntimeCpuTest.cpp repeats them. */
enum { kMatvecRows = 37, kMatvecCols = 53, kSumLength = 16 };

/* y[i] = sum_k w[i][k] * x[k] + 0.5 * y[i]: reads every input, updates y. */
void qpal_test_matvec(const float *w, const float *x, float *y) {
  for (int i = 0; i < kMatvecRows; ++i) {
    float sum = 0.5f * y[i];
    for (int k = 0; k < kMatvecCols; ++k)
      sum += w[i * kMatvecCols + k] * x[k];
    y[i] = sum;
  }
}

/* The last of `n` arrays becomes sum_j (j + 1) * p[j]: a kernel per arity,
 * so that each case of the runtime's call switch is checked. */
static void weightedSum(float **p, int n) {
  for (int i = 0; i < kSumLength; ++i) {
    float sum = 0.0f;
    for (int j = 0; j < n; ++j)
      sum += (float)(j + 1) * p[j][i];
    p[n - 1][i] = sum;
  }
}

static int counter;

/* No parameters: counts its calls, read back by qpal_test_read_counter. */
void qpal_test_count(void) { ++counter; }
void qpal_test_read_counter(int *out) { *out = counter; }

void qpal_test_sum1(float *a) {
  float *p[] = {a};
  weightedSum(p, 1);
}
void qpal_test_sum2(float *a, float *b) {
  float *p[] = {a, b};
  weightedSum(p, 2);
}
void qpal_test_sum3(float *a, float *b, float *c) {
  float *p[] = {a, b, c};
  weightedSum(p, 3);
}
void qpal_test_sum4(float *a, float *b, float *c, float *d) {
  float *p[] = {a, b, c, d};
  weightedSum(p, 4);
}
void qpal_test_sum5(float *a, float *b, float *c, float *d, float *e) {
  float *p[] = {a, b, c, d, e};
  weightedSum(p, 5);
}
void qpal_test_sum6(float *a, float *b, float *c, float *d, float *e,
                    float *f) {
  float *p[] = {a, b, c, d, e, f};
  weightedSum(p, 6);
}
void qpal_test_sum7(float *a, float *b, float *c, float *d, float *e, float *f,
                    float *g) {
  float *p[] = {a, b, c, d, e, f, g};
  weightedSum(p, 7);
}
void qpal_test_sum8(float *a, float *b, float *c, float *d, float *e, float *f,
                    float *g, float *h) {
  float *p[] = {a, b, c, d, e, f, g, h};
  weightedSum(p, 8);
}

/* A ranged kernel (qpalrtLaunchRange): y[i] = 2 * x[i] + 1 and owner[i] =
 * the first index of the caller's range, for i in [range[0], range[1]). */
void qpal_test_ranged(const float *x, float *y, long long *owner,
                      const long long *range) {
  for (long long i = range[0]; i < range[1]; ++i) {
    y[i] = 2.0f * x[i] + 1.0f;
    owner[i] = range[0];
  }
}
