#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "fault.hpp"

int main(int argc, char** argv) {
  refold_torture::install();  // before any store is opened
  doctest::Context context(argc, argv);
  return context.run();
}
