// refold.h compiles as C++ (-Wall -Wextra -pedantic -Werror) and links
// against the library; runs the C half too.
#include "refold.h"

#include <cstdio>
#include <cstring>

extern "C" int refold_headertest_c(void);

int main() {
  if (std::strcmp(refold_version(), REFOLD_VERSION_STRING) != 0) {
    std::fprintf(stderr, "runtime version %s differs from header %s\n", refold_version(),
                 REFOLD_VERSION_STRING);
    return 1;
  }
  int rc = refold_headertest_c();
  if (rc != 0) std::fprintf(stderr, "C header test failed at step %d\n", rc);
  return rc;
}
