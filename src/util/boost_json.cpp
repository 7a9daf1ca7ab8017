// Boost.JSON compiled into the library (header-only mode), so refold needs no
// Boost shared library at run time and sanitizers see all of it.
#include <boost/json/src.hpp>
