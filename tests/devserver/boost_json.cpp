// Boost.JSON compiled into the test executable (header-only mode).
#include <boost/json/src.hpp>
