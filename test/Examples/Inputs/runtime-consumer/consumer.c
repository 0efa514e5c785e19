/* consumer PACKAGE: opens a package through the installed runtime's C API,
 * prints its model, runs 3 tokens twice (the second time after a reset)
 * and prints the argmax of the last logits of each run. */
#include "qpalrt.h"

#include <stdio.h>
#include <stdlib.h>

static int check(qpalrtStatus status) {
  if (status != QPALRT_SUCCESS) {
    fprintf(stderr, "consumer: %s\n", qpalrtGetLastError());
    exit(1);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: consumer PACKAGE\n");
    return 2;
  }
  qpalrtPackage *package = NULL;
  check(qpalrtOpenPackage(argv[1], &package));
  qpalrtModelInfo info;
  check(qpalrtGetModelInfo(package, &info));
  printf("model %s: vocabulary %lld, hidden %lld, %lld layers, target %s\n",
         info.name, (long long)info.vocabSize, (long long)info.hiddenSize,
         (long long)info.layers, info.target);
  qpalrtSession *session = NULL;
  check(qpalrtCreateSession(package, 16, &session));
  float *logits = malloc(sizeof(float) * (size_t)info.vocabSize);
  const int32_t tokens[3] = {1, 2, 3};
  for (int run = 0; run < 2; ++run) {
    check(qpalrtSessionReset(session));
    check(qpalrtSessionRun(session, tokens, 3, logits, 1));
    int64_t best = 0;
    for (int64_t i = 1; i < info.vocabSize; ++i)
      if (logits[i] > logits[best])
        best = i;
    printf("run %d: argmax %lld logit %.6f\n", run, (long long)best,
           logits[best]);
  }
  free(logits);
  check(qpalrtClosePackage(package));
  return 0;
}
