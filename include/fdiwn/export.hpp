// What libfdiwn.so exports: the declarations of the public headers
// (include/fdiwn/), each wrapped in FDIWN_API_BEGIN / FDIWN_API_END, and
// nothing else (the library is built with hidden visibility, so its
// internals and the engine stay private to it).
#pragma once

#define FDIWN_API_BEGIN _Pragma("GCC visibility push(default)")
#define FDIWN_API_END _Pragma("GCC visibility pop")
