// Boost.JSON compiled into the tool (header-only mode): used to read the
// library's listings and credentials.
#include <boost/json/src.hpp>
