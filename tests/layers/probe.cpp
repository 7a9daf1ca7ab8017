// One include, chosen per probe target by tests/layers/CMakeLists.txt and
// compiled with the include path of a layer: it builds only if that layer
// may see the header.
#include REFOLD_PROBE_HEADER
