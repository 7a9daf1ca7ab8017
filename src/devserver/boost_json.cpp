// Boost.JSON compiled into this executable (header-only mode), so it needs
// no Boost shared library at run time and sanitizers see all of it.
#include <boost/json/src.hpp>
