// Transparent huge pages for the big buffers of shuffles and factor matrices.
//
// Measured here: on a VM, first-touch page faults dominate a 5 M-row shuffle (0.37 s to fill an 80 MB send
// buffer, against 0.03 s with huge pages), because glibc hands out every large buffer as fresh mmap'd 4 KiB
// pages. glibc (>= 2.35) backs its allocations with huge pages when the tunable glibc.malloc.hugetlb=1 is
// set, but tunables are read only at process start — so the command re-executes itself once with it set.
#pragma once

namespace tailflow {

// If GLIBC_TUNABLES does not already mention glibc.malloc.hugetlb and TAILFLOW_HUGE_PAGES is not "0",
// replaces the process image with itself (same argv, same pid, tunable set). Call first thing in main(),
// before MPI starts. Returns normally when nothing is to be done or exec fails.
void reexec_with_huge_pages(char** argv);

}  // namespace tailflow
