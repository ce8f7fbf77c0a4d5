#include "engine/huge_pages.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace tailflow {

void reexec_with_huge_pages(char** argv) {
  const char* opt_out = std::getenv("TAILFLOW_HUGE_PAGES");
  if (opt_out && std::strcmp(opt_out, "0") == 0) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  std::string value = tunables ? tunables : "";
  if (value.find("glibc.malloc.hugetlb") != std::string::npos) return;
  value = value.empty() ? "glibc.malloc.hugetlb=1" : value + ":glibc.malloc.hugetlb=1";
  setenv("GLIBC_TUNABLES", value.c_str(), 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on with normal pages.
}

}  // namespace tailflow
