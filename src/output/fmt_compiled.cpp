// {fmt}'s out-of-line code, compiled once for the whole project.
//
// Why not Debian's libfmt.so: the `sockscope` binary keeps {fmt} inside itself (a
// shared libfmt was most of the dynamic loader's work in a short run; see
// src/cli/CMakeLists.txt). Why not FMT_HEADER_ONLY: it makes every file that
// includes <fmt/core.h> compile format-inl.h too (about 3 s per file at -O3, in
// 49 files of each build). Debian ships the headers and the shared library but
// not the library's source file, so this file does what that source file does:
// it defines the out-of-line functions (format-inl.h) and instantiates the
// templates format.h declares `extern template` for, plus the ones it declares
// FMT_API without a definition (the float formatting and the locale handle).
#include <fmt/format-inl.h>

#include <locale>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;

}  // namespace detail
FMT_END_NAMESPACE
