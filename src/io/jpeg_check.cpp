#include "io/jpeg_check.hpp"

#include <csetjmp>
#include <cstdio>

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
  if (level >= 0) return;  // trace messages
  const int code = cinfo->err->msg_code;
  const bool missing = code == JWRN_HIT_MARKER || code == JWRN_JPEG_EOF;
  // The first warning, or the first that says data is missing: a harmless
  // one before it must not hide it.
  if (!r->first.message.empty() && (r->first.data_missing || !missing)) return;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  r->first.message = text;
  r->first.data_missing = missing;
}

}  // namespace

JpegWarning jpeg_data_warning(const std::vector<unsigned char>& bytes) {
  jpeg_decompress_struct cinfo{};
  Reporter reporter{};
  cinfo.err = jpeg_std_error(&reporter.base);
  reporter.base.error_exit = on_error;
  reporter.base.emit_message = on_message;
  // longjmp comes back to this frame from libjpeg's C frames only; the row
  // is libjpeg's own memory, freed with it.
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
  JSAMPARRAY rows = (*cinfo.mem->alloc_sarray)(
      reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
      cinfo.output_width * static_cast<JDIMENSION>(cinfo.output_components), 1);
  while (cinfo.output_scanline < cinfo.output_height) jpeg_read_scanlines(&cinfo, rows, 1);
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return reporter.first;
}

}  // namespace fdiwn::io
