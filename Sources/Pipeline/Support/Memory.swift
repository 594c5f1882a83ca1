import Foundation

/// Memory the process has freed, given back to the system.
enum Memory {
    /// glibc's `malloc_trim`, looked up at run time: glibc's malloc.h is not in Swift's Glibc module, and a C
    /// library without it (musl) simply gets nothing done.
    private static let trim: (@convention(c) (Int) -> Int32)? = dlsym(nil, "malloc_trim").map {
        unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self)
    }

    /// Returns the pages of freed memory to the system. glibc keeps them otherwise: what a large build freed
    /// after loading and planning (YAML trees, the planning threads' scratch) would still count while its
    /// worker threads fill arenas of their own. 100,000 lines: the build's peak RSS 300 -> 286 MB.
    static func releaseFreePages() {
        _ = trim?(0)
    }
}
