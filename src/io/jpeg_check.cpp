#include "io/jpeg_check.hpp"

#include <csetjmp>
#include <cstdio>
#include <vector>

// jpeglib.h needs FILE and size_t declared first.
#include <jerror.h>
#include <jpeglib.h>

namespace fdiwn::io {

namespace {

struct Reporter {
  jpeg_error_mgr base;
  std::jmp_buf on_error;
  JpegWarning first;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<Reporter*>(cinfo->err)->on_error, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  auto* r = reinterpret_cast<Reporter*>(cinfo->err);
  if (level >= 0 || !r->first.message.empty()) return;  // trace messages; a later warning
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  r->first.message = text;
  const int code = cinfo->err->msg_code;
  r->first.data_missing = code == JWRN_HIT_MARKER || code == JWRN_JPEG_EOF;
}

}  // namespace

JpegWarning jpeg_data_warning(const std::vector<unsigned char>& bytes) {
  jpeg_decompress_struct cinfo{};
  Reporter reporter{};
  cinfo.err = jpeg_std_error(&reporter.base);
  reporter.base.error_exit = on_error;
  reporter.base.emit_message = on_message;
  // longjmp comes back to this frame from libjpeg's C frames only.
  std::vector<JSAMPLE> row;
  if (setjmp(reporter.on_error) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return {};
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.scale_num = 1;
  cinfo.scale_denom = 8;
  cinfo.dct_method = JDCT_IFAST;
  jpeg_start_decompress(&cinfo);
  row.resize(static_cast<size_t>(cinfo.output_width) *
             static_cast<size_t>(cinfo.output_components));
  JSAMPROW rows[1] = {row.data()};
  while (cinfo.output_scanline < cinfo.output_height) jpeg_read_scanlines(&cinfo, rows, 1);
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return reporter.first;
}

}  // namespace fdiwn::io
