#include <refold.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  if (strcmp(refold_version(), REFOLD_VERSION_STRING) != 0) {
    fprintf(stderr, "version mismatch: %s vs %s\n", refold_version(), REFOLD_VERSION_STRING);
    return 1;
  }
  puts(refold_version());
  return 0;
}
